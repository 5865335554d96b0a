#pragma once
// The two Redis topologies as the programs are given them, for tests that
// run the same scenario on both: a Sentinel group and a Cluster, each with
// the options every program takes (`--redis-sentinel A --redis-sentinel B`),
// the environment a builder sets instead (REDIS_SENTINELS=A,B), and the data
// node that serves a key now.

#include <string>
#include <vector>

#include <gtest/gtest.h>

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
    // SIGKILLs the master and waits until the sentinels promoted a replica.
    void kill_master_of(const std::string& key);
    // Every data node, to set them up alike (e.g. ACL users).
    std::vector<RedisServer*> data_nodes();

    RedisSentinelGroup group;
};

struct ClusterTopology {
    static constexpr const char* name = "Cluster";
    std::vector<std::string> options() const;
    EnvVars environment() const;
    // The master of the key's slot (waits until the nodes agree).
    RedisServer& master_of(const std::string& key);
    // SIGKILLs that master and waits until its replica took the slot over.
    void kill_master_of(const std::string& key);
    std::vector<RedisServer*> data_nodes();

    RedisCluster cluster;
};

// For typed tests over both: TYPED_TEST_SUITE(T, Topologies, TopologyName)
// names them T/Sentinel and T/Cluster.
using Topologies = ::testing::Types<SentinelTopology, ClusterTopology>;
struct TopologyName {
    template <class T>
    static std::string GetName(int /*index*/) {
        return T::name;
    }
};

}  // namespace bscd::test
