#include "redis/redis_options.hpp"

#include <string>

namespace bscd {

std::string RedisOptions::address() const {
    const std::string who = user.empty() ? "" : user + "@";
    if (!unix_socket.empty()) {
        return who + "unix:" + unix_socket;
    }
    return who + host + ":" + std::to_string(port);
}

std::vector<std::string> RedisOptions::auth_command() const {
    if (!user.empty()) {
        // Also with an empty password: a `nopass` user takes any, others
        // get Redis' own clear WRONGPASS.
        return {"AUTH", user, password};
    }
    if (!password.empty()) {
        return {"AUTH", password};
    }
    return {};
}

}  // namespace bscd
