#include "redis/redis_options.hpp"

#include <string>

namespace bscd {

std::string RedisOptions::address() const {
    if (!unix_socket.empty()) {
        return "unix:" + unix_socket;
    }
    return host + ":" + std::to_string(port);
}

}  // namespace bscd
