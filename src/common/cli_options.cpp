#include "common/cli_options.hpp"

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
    app.add_option("--redis-password", options.password,
                   "Redis password (prefer the REDIS_PASSWORD environment variable: "
                   "arguments are visible in ps)")
        ->envname("REDIS_PASSWORD");
    app.add_option("--redis-db", options.db, "Redis database number")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
}

}  // namespace bscd
