#pragma once
// Where and how to reach Redis; shared by every program. Three topologies:
// one server (host:port or a Unix socket), a Sentinel group (the master the
// sentinels name), or a Cluster (the master of a key's slot). Which node to
// use is NodeLocator's business; these are only the settings.

#include <string>
#include <vector>

#include "core/host_port.hpp"

namespace bscd {

enum class RedisMode { Standalone, Sentinel, Cluster };

struct RedisOptions {
    std::string host = "127.0.0.1";  // -H/--redis-host, REDIS_HOST
    int port = 6379;                 // -P/--redis-port, REDIS_PORT
    std::string unix_socket;         // --redis-socket: used instead of host:port when set
    std::string user;                // --redis-user, REDIS_USER: an ACL user (Redis 6+)
    std::string password;  // --redis-password-file, REDIS_PASSWORD: never in a message or log
    int db = 0;            // --redis-db

    // Sentinel: --redis-sentinel (repeatable), REDIS_SENTINELS.
    std::vector<HostPort> sentinels;
    std::string master_name = "mymaster";  // --redis-master-name, REDIS_MASTER_NAME
    // The sentinels' own login (requirepass/ACL on the sentinels), not the data nodes':
    // --redis-sentinel-user, REDIS_SENTINEL_USER; --redis-sentinel-password-file,
    // REDIS_SENTINEL_PASSWORD.
    std::string sentinel_user;
    std::string sentinel_password;

    // Cluster: seed nodes, --redis-cluster (repeatable), REDIS_CLUSTER.
    std::vector<HostPort> cluster_nodes;

    // Set by NodeLocator on a node that a sentinel named: the handshake
    // confirms with ROLE that it is the master before anything is sent (a
    // sentinel's answer may be stale, and a demoted master still accepts reads).
    bool must_be_master = false;

    [[nodiscard]] RedisMode mode() const;

    // "127.0.0.1:6379", "unix:/path", "sentinel mymaster", "cluster", with
    // "user@" in front when there is a user; for log lines and errors, so it
    // never holds the password.
    [[nodiscard]] std::string address() const;

    // The AUTH command for the handshake: Redis 6's AUTH user password with
    // a user, the old AUTH password without; empty when there is neither.
    [[nodiscard]] std::vector<std::string> auth_command() const;

    // These settings aimed at one data node (a master a sentinel named, a
    // cluster node): standalone, same login and database.
    [[nodiscard]] RedisOptions at(const HostPort& node) const;
    // Settings for asking the sentinel at `node`: its own login, no database.
    [[nodiscard]] RedisOptions sentinel_at(const HostPort& node) const;
};

}  // namespace bscd
