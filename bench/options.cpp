#include "options.hpp"

#include <cerrno>
#include <cstdlib>

namespace bench {

Options::Options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") {
            command_.assign(argv + i + 1, argv + argc);
            return;
        }
        if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
            throw UsageError("expected --key value, got '" + arg + "'");
        }
        values_.emplace(arg.substr(2), argv[++i]);
    }
}

std::string Options::text(const std::string& key) const {
    used_[key] = true;
    const auto it = values_.find(key);
    if (it == values_.end()) {
        throw UsageError("--" + key + " is required");
    }
    return it->second;
}

std::string Options::text(const std::string& key, const std::string& fallback) const {
    used_[key] = true;
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
}

long Options::integer(const std::string& key, long fallback, long min, long max) const {
    const std::string value = text(key, std::to_string(fallback));
    char* end = nullptr;
    errno = 0;
    const long parsed = std::strtol(value.c_str(), &end, 10);
    if (errno != 0 || end == value.c_str() || *end != '\0' || parsed < min || parsed > max) {
        throw UsageError("--" + key + " must be an integer in [" + std::to_string(min) + ", " +
                         std::to_string(max) + "], got '" + value + "'");
    }
    return parsed;
}

double Options::real(const std::string& key, double fallback, double min, double max) const {
    const std::string value = text(key, std::to_string(fallback));
    char* end = nullptr;
    errno = 0;
    const double parsed = std::strtod(value.c_str(), &end);
    if (errno != 0 || end == value.c_str() || *end != '\0' || !(parsed >= min && parsed <= max)) {
        throw UsageError("--" + key + " must be a number in [" + std::to_string(min) + ", " +
                         std::to_string(max) + "], got '" + value + "'");
    }
    return parsed;
}

std::vector<std::string> Options::all(const std::string& key) const {
    used_[key] = true;
    std::vector<std::string> found;
    const auto [first, last] = values_.equal_range(key);
    for (auto it = first; it != last; ++it) {
        found.push_back(it->second);
    }
    return found;
}

void Options::reject_unknown() const {
    for (const auto& [key, value] : values_) {
        if (!used_.contains(key)) {
            throw UsageError("unknown option --" + key);
        }
    }
}

RedisTarget redis_target(const Options& options) {
    RedisTarget target;
    target.host = options.text("redis-host", target.host);
    target.port = static_cast<int>(options.integer("redis-port", target.port, 1, 65535));
    if (target.host != "127.0.0.1" && target.host != "::1" && target.host != "localhost") {
        throw UsageError("--redis-host must be a loopback address (127.0.0.1, ::1, localhost)");
    }
    return target;
}

}  // namespace bench
