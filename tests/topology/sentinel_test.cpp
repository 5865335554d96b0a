// bscd and bsc watch on a real Sentinel group (one master, two replicas,
// three sentinels) through failovers: every code answered OK is in the new
// master's history exactly once, in order, and a `bsc watch` that stayed
// connected shows every event once.

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/redis_sentinel_group.hpp"
#include "support/wait.hpp"
#include "topology_bscd_test.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

class SentinelTest : public TopologyBscdTest {
protected:
    // --redis-sentinel for each sentinel, as every program takes them.
    std::vector<std::string> topology() const override {
        std::vector<std::string> args;
        for (const auto& address : group.sentinel_addresses()) {
            args.insert(args.end(), {"--redis-sentinel", address});
        }
        return args;
    }
    RedisServer& data_node(int node) override { return group.node(node); }

    RedisSentinelGroup group;
};

// The codes `bsc watch --json` printed, in order.
std::vector<std::string> watched_codes(const Process& watch) {
    static const std::regex code(R"("code":(\d+))");
    std::vector<std::string> codes;
    const std::string output = watch.output();
    for (std::sregex_iterator it(output.begin(), output.end(), code), end; it != end; ++it) {
        codes.push_back((*it)[1]);
    }
    return codes;
}

TEST_F(SentinelTest, MasterKilledMidStreamLosesAndRepeatsNothingWithAReplicaConfirming) {
    auto daemon = start_bscd({"--redis-replicas", "1"});
    ProducerClient client(socket_path());
    send_until(client, 100);
    // Killed with codes in flight; more accepted while no master is known.
    const int old_master = group.master_index();
    group.kill_node(old_master);
    send_until(client, 200);
    const int new_master = group.wait_for_new_master(old_master);
    send_until(client, 300);

    EXPECT_EQ(history_when(new_master, 300, *daemon), stream.codes());
    EXPECT_EQ(stream.accepted(), stream.codes());
}

TEST_F(SentinelTest, BscWatchFollowsTheBuildAcrossAFailover) {
    // Pieman's codes (1000 ends the watch), one request each.
    const std::vector<std::string> before{"10", "20", "21", "30"};
    const std::vector<std::string> after{"31", "32", "33", "40", "50",  "60",
                                         "70", "80", "81", "82", "1000"};
    auto daemon = start_bscd({}, /*stream_codes=*/false);
    ProducerClient client(socket_path());
    for (const auto& code : before) {
        client.write(code + "\n");
        ASSERT_EQ(client.read_lines(1), "OK\n");
    }
    std::vector<std::string> watch_args{bin("bsc"), "watch", "demo", "--json", "--timeout", "120"};
    const auto nodes = topology();
    watch_args.insert(watch_args.end(), nodes.begin(), nodes.end());
    Process watch(watch_args);
    ASSERT_TRUE(wait_until([&] { return watched_codes(watch).size() == before.size(); }, 15s))
        << watch.output();

    const int old_master = group.master_index();
    group.kill_node(old_master);
    for (const auto& code : after) {
        client.write(code + "\n");
        ASSERT_EQ(client.read_lines(1), "OK\n");
    }
    group.wait_for_new_master(old_master);

    EXPECT_EQ(watch.wait(60s), 0) << watch.output() << daemon->output().substr(0, 6000);
    std::vector<std::string> all = before;
    all.insert(all.end(), after.begin(), after.end());
    EXPECT_EQ(watched_codes(watch), all) << watch.output();
}

TEST_F(SentinelTest, AWindowNeverReplicatedIsWrittenAgainFromTheTail) {
    // No --redis-replicas: codes count as confirmed once the master has
    // them. The replicas are stopped, so the master alone holds 51..100
    // when it dies; the tail bscd sends after reconnecting restores them.
    auto daemon = start_bscd();
    ProducerClient client(socket_path());
    const int old_master = group.master_index();
    send_until(client, 50);
    history_when(old_master, 50, *daemon);
    std::vector<int> replicas;
    for (int node = 0; node < RedisSentinelGroup::node_count; ++node) {
        if (node != old_master) {
            replicas.push_back(node);
            group.pause_node(node);
        }
    }
    // Pausing alone is not enough: what the master already sent waits in
    // the paused replicas' socket buffers. Cut their links first.
    group.node(old_master).command({"CLIENT", "KILL", "TYPE", "replica"});
    send_until(client, 100);
    history_when(old_master, 100, *daemon);
    group.kill_node(old_master);
    for (int node : replicas) {
        group.resume_node(node);
    }
    const int new_master = group.wait_for_new_master(old_master);
    send_until(client, 150);

    EXPECT_EQ(history_when(new_master, 150, *daemon), first_codes(150));
    EXPECT_NE(daemon->output().find("lacked"), std::string::npos)
        << "the new master had every code: the test did not lose the window\n"
        << daemon->output().substr(0, 6000);
}

TEST_F(SentinelTest, AHungMasterIsReplacedAndItsLateWritesDoNotCount) {
    // Paused past down-after: the sentinels promote a replica. Resumed, the
    // old master runs the script calls it had queued before it is made a
    // replica; WAIT finds no replica there, so they never count.
    auto daemon = start_bscd({"--redis-replicas", "1"});
    ProducerClient client(socket_path());
    send_until(client, 100);
    const int old_master = group.master_index();
    group.pause_node(old_master);
    send_until(client, 200);
    const int new_master = group.wait_for_new_master(old_master);
    group.resume_node(old_master);
    send_until(client, 300);

    EXPECT_EQ(history_when(new_master, 300, *daemon), stream.codes());
    group.wait_for_replica(old_master);
    EXPECT_EQ(history_when(old_master, 300, *daemon), stream.codes());
}

}  // namespace
}  // namespace bscd::test
