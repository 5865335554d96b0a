#include "redis/redis_options.hpp"

#include <string>

namespace bscd {

RedisMode RedisOptions::mode() const {
    if (!cluster_nodes.empty()) {
        return RedisMode::Cluster;
    }
    return sentinels.empty() ? RedisMode::Standalone : RedisMode::Sentinel;
}

std::string RedisOptions::address() const {
    const std::string who = user.empty() ? "" : user + "@";
    switch (mode()) {
        case RedisMode::Sentinel:
            return who + "sentinel " + master_name;
        case RedisMode::Cluster:
            return who + "cluster";
        case RedisMode::Standalone:
            break;
    }
    if (!unix_socket.empty()) {
        return who + "unix:" + unix_socket;
    }
    return who + HostPort{host, port}.str();
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

RedisOptions RedisOptions::at(const HostPort& node) const {
    RedisOptions one = *this;
    one.host = node.host;
    one.port = node.port;
    one.unix_socket.clear();
    one.sentinels.clear();
    one.cluster_nodes.clear();
    one.must_be_master = false;
    return one;
}

RedisOptions RedisOptions::sentinel_at(const HostPort& node) const {
    RedisOptions sentinel;
    sentinel.host = node.host;
    sentinel.port = node.port;
    sentinel.user = sentinel_user;
    sentinel.password = sentinel_password;
    return sentinel;
}

}  // namespace bscd
