#include "common/cli_options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace bscd {

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
        app.add_option(std::string(redis_password_option.name), options.password,
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

std::string read_secret_file(std::string_view option, const std::string& path,
                             std::string_view what) {
    std::ifstream in(path);
    if (!in) {
        throw CLI::ValidationError(std::string(option),
                                   "cannot read " + path + ": " + std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line.empty()) {
        throw CLI::ValidationError(std::string(option),
                                   path + " has no " + std::string(what) + " on its first line");
    }
    return line;
}

bool hide_secret_option(std::string_view program, int argc, char** argv, const SecretOption& secret,
                        bool warn) {
    const std::string_view option = secret.name;
    bool hidden = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;  // the rest are positional arguments
        }
        char* value = nullptr;
        if (arg == option && i + 1 < argc) {
            value = argv[++i];
        } else if (arg.starts_with(option) && arg.size() > option.size() &&
                   arg[option.size()] == '=') {
            value = argv[i] + option.size() + 1;
        }
        if (value != nullptr) {
            // In place: /proc/PID/cmdline reads this very memory.
            std::memset(value, 'x', std::strlen(value));
            hidden = true;
        }
    }
    if (hidden && warn) {
        (void)std::fprintf(stderr,
                           "%.*s: warning: %.*s on the command line can be seen by every user "
                           "(ps); use %.*s instead\n",
                           static_cast<int>(program.size()), program.data(),
                           static_cast<int>(secret.what.size()), secret.what.data(),
                           static_cast<int>(secret.instead.size()), secret.instead.data());
    }
    return hidden;
}

}  // namespace bscd
