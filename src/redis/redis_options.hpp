#pragma once
// Where and how to reach Redis; shared by every program.

#include <string>

namespace bscd {

struct RedisOptions {
    std::string host = "127.0.0.1";  // -H/--redis-host, REDIS_HOST
    int port = 6379;                 // -P/--redis-port, REDIS_PORT
    std::string unix_socket;         // --redis-socket: used instead of host:port when set
    std::string password;            // --redis-password, REDIS_PASSWORD
    int db = 0;                      // --redis-db

    // "127.0.0.1:6379" or "unix:/path"; for log lines and errors.
    [[nodiscard]] std::string address() const;
};

}  // namespace bscd
