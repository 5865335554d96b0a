#pragma once
// Where and how to reach Redis; shared by every program.

#include <string>
#include <vector>

namespace bscd {

struct RedisOptions {
    std::string host = "127.0.0.1";  // -H/--redis-host, REDIS_HOST
    int port = 6379;                 // -P/--redis-port, REDIS_PORT
    std::string unix_socket;         // --redis-socket: used instead of host:port when set
    std::string user;                // --redis-user, REDIS_USER: an ACL user (Redis 6+)
    std::string password;  // --redis-password-file, REDIS_PASSWORD: never in a message or log
    int db = 0;            // --redis-db

    // "127.0.0.1:6379", "unix:/path", with "user@" in front when there is a
    // user; for log lines and errors, so it never holds the password.
    [[nodiscard]] std::string address() const;

    // The AUTH command for the handshake: Redis 6's AUTH user password with
    // a user, the old AUTH password without; empty when there is neither.
    [[nodiscard]] std::vector<std::string> auth_command() const;
};

}  // namespace bscd
