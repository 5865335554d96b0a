#pragma once
// The two Redis topologies as the programs are given them, for tests that
// run the same scenario on both: a Sentinel group and a Cluster, each with
// the options every program takes (`--redis-sentinel A --redis-sentinel B`),
// the environment a builder sets instead (REDIS_SENTINELS=A,B), and the data
// node that serves a key now.

#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_sentinel_group.hpp"

namespace bscd::test {

struct SentinelTopology {
    static constexpr const char* name = "Sentinel";
    std::vector<std::string> options() const;
    EnvVars environment() const;
    // The master the sentinels name (throws while they disagree).
    RedisServer& master_of(const std::string& key);

    RedisSentinelGroup group;
};

struct ClusterTopology {
    static constexpr const char* name = "Cluster";
    std::vector<std::string> options() const;
    EnvVars environment() const;
    // The master of the key's slot (waits until the nodes agree).
    RedisServer& master_of(const std::string& key);

    RedisCluster cluster;
};

}  // namespace bscd::test
