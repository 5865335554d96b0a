#include "common/cli_options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace bscd {

namespace {
constexpr std::string_view password_option = "--redis-password";
}  // namespace

void add_redis_options(CLI::App& app, RedisOptions& options) {
    app.add_option("-H,--redis-host", options.host, "Redis server host")
        ->envname("REDIS_HOST")
        ->capture_default_str();
    app.add_option("-P,--redis-port", options.port, "Redis server port")
        ->envname("REDIS_PORT")
        ->check(CLI::Range(1, 65535))
        ->capture_default_str();
    app.add_option("--redis-socket", options.unix_socket,
                   "Redis Unix socket path (instead of host and port)");
    app.add_option("--redis-user", options.user,
                   "Redis ACL user (Redis 6 and later), authenticated with the password")
        ->envname("REDIS_USER");
    auto* password =
        app.add_option(std::string(password_option), options.password,
                       "Redis password; prefer REDIS_PASSWORD or --redis-password-file: "
                       "arguments are visible in ps (this one is overwritten once read)")
            ->envname("REDIS_PASSWORD");
    app.add_option_function<std::string>(
           "--redis-password-file",
           [&options](const std::string& path) { options.password = read_password_file(path); },
           "file whose first line is the Redis password")
        ->type_name("FILE")
        ->excludes(password);
    app.add_option("--redis-db", options.db, "Redis database number")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
}

std::string read_password_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw CLI::ValidationError("--redis-password-file",
                                   "cannot read " + path + ": " + std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line.empty()) {
        throw CLI::ValidationError("--redis-password-file",
                                   path + " has no password on its first line");
    }
    return line;
}

void hide_redis_password(std::string_view program, int argc, char** argv) {
    bool hidden = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;  // the rest are positional arguments
        }
        char* value = nullptr;
        if (arg == password_option && i + 1 < argc) {
            value = argv[++i];
        } else if (arg.starts_with(password_option) && arg.size() > password_option.size() &&
                   arg[password_option.size()] == '=') {
            value = argv[i] + password_option.size() + 1;
        }
        if (value != nullptr) {
            // In place: /proc/PID/cmdline reads this very memory.
            std::memset(value, 'x', std::strlen(value));
            hidden = true;
        }
    }
    if (hidden) {
        (void)std::fprintf(stderr,
                           "%.*s: warning: a password on the command line can be seen by every "
                           "user (ps); use REDIS_PASSWORD or --redis-password-file instead\n",
                           static_cast<int>(program.size()), program.data());
    }
}

}  // namespace bscd
