// bscd on a real six-node Redis Cluster: the project's stream lives on the
// master of its slot, and every code answered OK is there exactly once, in
// order, when that master dies, when its replica takes over by CLUSTER
// FAILOVER, when another master dies, and when the slot is migrated by hand
// while codes flow (ASK, then MOVED).

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/cluster_slot.hpp"
#include "support/topologies.hpp"
#include "support/wait.hpp"
#include "topology_bscd_test.hpp"

namespace bscd::test {
namespace {

class ClusterBscdTest : public TopologyBscdTest {
protected:
    std::vector<std::string> topology() const override { return redis.options(); }
    RedisServer& data_node(int node) override { return cluster.node(node); }

    ClusterTopology redis;
    RedisCluster& cluster = redis.cluster;
    const int slot = key_hash_slot("bscd-demo:events");
};

TEST_F(ClusterBscdTest, TheMasterOfTheProjectsSlotKilledLosesAndRepeatsNothing) {
    auto daemon = start_bscd({"--redis-replicas", "1"});
    ProducerClient client(socket_path());
    send_until(client, 100);
    const int old_master = cluster.master_of_slot(slot);
    cluster.kill_node(old_master);
    send_until(client, 200);
    const int new_master = cluster.wait_for_slot_master_change(slot, old_master);
    send_until(client, 300);

    EXPECT_EQ(history_when(new_master, 300, *daemon), sent_codes());
    EXPECT_EQ(stream.accepted(), sent_codes());
}

TEST_F(ClusterBscdTest, AClusterFailoverWhileCodesFlowLosesAndRepeatsNothing) {
    auto daemon = start_bscd({"--redis-replicas", "1"});
    ProducerClient client(socket_path());
    send_until(client, 50);
    const int old_master = cluster.master_of_slot(slot);
    const int replica = cluster.replica_of(old_master);
    send_during(client, [&] { cluster.failover(replica); });
    send_until(client, stream.sent() + 50);

    EXPECT_EQ(cluster.master_of_slot(slot), replica);
    EXPECT_EQ(history_when(replica, stream.sent(), *daemon), sent_codes());
    EXPECT_EQ(stream.accepted(), sent_codes());
}

TEST_F(ClusterBscdTest, AnotherMasterKilledChangesNothing) {
    auto daemon = start_bscd();
    ProducerClient client(socket_path());
    send_until(client, 100);
    const int master = cluster.master_of_slot(slot);
    const int other = (master + 1) % 3;                         // nodes 0..2 are the first masters
    const int others_slot = std::array{0, 5461, 10923}[other];  // the first of its range
    cluster.kill_node(other);
    send_until(client, 200);
    cluster.wait_for_slot_master_change(others_slot, other);
    send_until(client, 300);

    EXPECT_EQ(history_when(master, 300, *daemon), sent_codes());
}

TEST_F(ClusterBscdTest, TheProjectsSlotMigratedWhileCodesFlowKeepsTheOrder) {
    auto daemon = start_bscd();
    ProducerClient client(socket_path());
    send_until(client, 100);
    const int from = cluster.master_of_slot(slot);
    const int to = (from + 1) % 3;
    history_when(from, 100, *daemon);
    cluster.begin_migration(slot, from, to);
    send_until(client, 150);  // still on the source: the key is there
    history_when(from, 150, *daemon);
    // The history and the build's start beside it, which hashes with it.
    ASSERT_EQ(cluster.migrate_keys(slot, from, to), 2U);
    send_until(client, 200);  // ASK to the target
    // (A plain read on the target is answered MOVED until the slot is its.)
    // The target saw bscd follow the redirection (ASKING, then the script).
    ASSERT_TRUE(wait_until([&] { return cluster.node(to).calls_of("asking") > 0; }))
        << "bscd never met the ASK redirection";
    cluster.finish_migration(slot, to);
    send_until(client, 300);  // MOVED, if bscd was still asking the source

    EXPECT_EQ(history_when(to, 300, *daemon), sent_codes());
}

}  // namespace
}  // namespace bscd::test
