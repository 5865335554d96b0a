// bscd and bsc watch on a real Sentinel group (one master, two replicas,
// three sentinels) through failovers: every code answered OK is in the new
// master's history exactly once, in order, and a `bsc watch` that stayed
// connected shows every event once.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/process_sockets.hpp"
#include "support/sse_client.hpp"
#include "support/temp_dir.hpp"
#include "support/topologies.hpp"
#include "support/wait.hpp"
#include "topology_bscd_test.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

class SentinelTest : public TopologyBscdTest {
protected:
    explicit SentinelTest(CodeValues values = CodeValues::distinct) : TopologyBscdTest(values) {}

    std::vector<std::string> topology() const override { return sentinel.options(); }
    RedisServer& data_node(int node) override { return group.node(node); }

    SentinelTopology sentinel;
    RedisSentinelGroup& group = sentinel.group;
};

// With a gateway viewer: codes that do not end its stream.
class SentinelViewerTest : public SentinelTest {
protected:
    SentinelViewerTest() : SentinelTest(CodeValues::below_final) {}
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

TEST_F(SentinelViewerTest, MasterKilledMidStreamLosesAndRepeatsNothingWithAReplicaConfirming) {
    auto daemon = start_bscd({"--redis-replicas", "1"});
    const int port = start_gateway();
    ProducerClient client(socket_path());
    send_until(client, 100);
    SseClient viewer(port, "/api/v1/projects/demo/events");
    ASSERT_EQ(viewer.status(), 200);
    ASSERT_EQ(codes_of(viewer.events(100, 15s)), first_codes(100))
        << viewer.body().substr(0, 3000) << gateway->output();
    // Killed with codes in flight; more accepted while no master is known.
    const int old_master = group.master_index();
    group.kill_node(old_master);
    send_until(client, 200);
    const int new_master = group.wait_for_new_master(old_master);
    send_until(client, 300);

    EXPECT_EQ(history_when(new_master, 300, *daemon), sent_codes());
    EXPECT_EQ(stream.accepted(), sent_codes());
    // The viewer that stayed connected: the other 200, once each.
    const auto sent = sent_codes();
    const std::vector<std::string> rest(sent.begin() + 100, sent.end());
    EXPECT_EQ(codes_of(viewer.events(200, 30s)), rest) << gateway->output();
    // And then the code sent next: no repeat came after the 300th.
    send_until(client, 301);
    EXPECT_EQ(codes_of(viewer.events(1, 15s)), std::vector<std::string>{sent_codes().back()});
}

// Whether the spool at `path` marks every code in it confirmed: its last
// record (start records aside) is a `confirmed` mark of the last code's id.
bool spool_all_confirmed(const std::string& path) {
    std::ifstream file(path);
    std::string line;
    std::string last_code_id;
    std::string last_line;
    while (std::getline(file, line)) {
        if (line.rfind("start ", 0) == 0) {
            continue;
        }
        if (line.rfind("confirmed ", 0) != 0) {
            last_code_id = line.substr(0, line.find(' '));
        }
        last_line = line;
    }
    return !last_code_id.empty() && last_line.rfind("confirmed " + last_code_id + " ", 0) == 0;
}

TEST_F(SentinelTest, TheReplicaThatAcknowledgedIsNotTheOnePromoted) {
    // Replica `acknowledging` confirms every WAIT but may never be promoted
    // (replica-priority 0); replica `promoted` misses codes 51..100. The
    // tail bscd sends after reconnecting gives the new master what it lacks.
    // The spool tells the test when bscd has had every answer (as below).
    auto daemon = start_bscd({"--redis-replicas", "1", "--spool", dir.path()});
    ProducerClient client(socket_path());
    send_until(client, 50);
    const int old_master = group.master_index();
    const int acknowledging = (old_master + 1) % RedisSentinelGroup::node_count;
    const int promoted = (old_master + 2) % RedisSentinelGroup::node_count;
    group.node(acknowledging).command({"CONFIG", "SET", "replica-priority", "0"});
    await("the sentinels seeing replica-priority 0", 10s, [&]() -> std::string {
        for (int s = 0; s < RedisSentinelGroup::sentinel_count; ++s) {
            const Reply replicas = group.sentinel_command(s, {"SENTINEL", "REPLICAS", "mymaster"});
            for (const auto& replica : replicas.elements) {
                std::map<std::string, std::string> fields;
                for (std::size_t i = 0; i + 1 < replica.elements.size(); i += 2) {
                    fields[replica.elements[i].str] = replica.elements[i + 1].str;
                }
                if (fields["port"] == std::to_string(group.node(acknowledging).port()) &&
                    fields["slave-priority"] != "0") {
                    return "sentinel " + std::to_string(s) + " sees " + fields["slave-priority"];
                }
            }
        }
        return "";
    });
    group.pause_node(promoted);
    // What the master already sent would wait in the paused replica's
    // socket buffer: cut the replicas' links (the other one reconnects).
    group.node(old_master).command({"CLIENT", "KILL", "TYPE", "replica"});
    send_until(client, 100);
    history_when(acknowledging, 100, *daemon);
    ASSERT_TRUE(wait_until([&] { return spool_all_confirmed(dir.file("bscd-demo.spool")); }, 10s))
        << "bscd never had the master's answer for every code";
    group.kill_node(old_master);
    group.resume_node(promoted);
    ASSERT_EQ(group.wait_for_new_master(old_master), promoted);
    send_until(client, 150);

    EXPECT_EQ(history_when(promoted, 150, *daemon), first_codes(150));
    EXPECT_NE(daemon->output().find("lacked"), std::string::npos)
        << "the promoted replica had every code: the test did not lose the window\n"
        << daemon->output().substr(daemon->output().size() -
                                   std::min<std::size_t>(daemon->output().size(), 6000));
}

TEST_F(SentinelTest, AGracefulFailoverWhileCodesFlowLosesAndRepeatsNothing) {
    auto daemon = start_bscd({"--redis-replicas", "1"});
    ProducerClient client(socket_path());
    send_until(client, 50);
    const int old_master = group.master_index();
    int new_master = -1;
    send_during(client, [&] { new_master = group.failover(); });
    send_until(client, stream.sent() + 50);

    EXPECT_NE(new_master, old_master);
    EXPECT_EQ(history_when(new_master, stream.sent(), *daemon), sent_codes());
    EXPECT_EQ(stream.accepted(), sent_codes());
}

TEST_F(SentinelTest, WithEverySentinelDownCodesAreHeldUntilTheOutboxIsFull) {
    auto daemon = start_bscd({"--outbox-size", "50"});
    ProducerClient client(socket_path());
    send_until(client, 50);
    const int master = group.master_index();
    history_when(master, 50, *daemon);
    group.stop_sentinels();
    // bscd's link dropped: it must ask the sentinels again, and none answers.
    group.node(master).command({"CLIENT", "KILL", "TYPE", "normal"});
    // bscd noticed: it closed its end of the link.
    ASSERT_TRUE(wait_until([&] {
        return tcp_sockets_to(daemon->pid(), group.node(master).port()).empty();
    })) << daemon->output();
    send_until(client, 100);  // held: the outbox is full now
    const auto refused = stream.send(client, 1);
    ASSERT_EQ(refused.size(), 1U);
    EXPECT_TRUE(refused.front().starts_with("ERR outbox full")) << refused.front();
    group.start_sentinels();
    ASSERT_TRUE(send_until_accepted(client, 150)) << daemon->output().substr(0, 6000);

    EXPECT_EQ(history_when(master, 150, *daemon), stream.accepted());
    EXPECT_EQ(stream.accepted().size(), 150U);
}

TEST_F(SentinelTest, BscdKilledDuringAFailoverLosesNothingItsSpoolHeld) {
    TempDir spool;
    const std::vector<std::string> options{"--redis-replicas", "1", "--spool", spool.path()};
    auto daemon = start_bscd(options);
    auto client = std::make_unique<ProducerClient>(socket_path());
    send_until(*client, 100);
    const int old_master = group.master_index();
    group.kill_node(old_master);
    send_until(*client, 200);  // held, and on disk
    daemon->kill();
    client.reset();
    // bscd starts only once Redis answers: after the failover, as a
    // supervisor's next attempt would. It sends what its spool holds first.
    const int new_master = group.wait_for_new_master(old_master);
    daemon = start_bscd(options);
    client = std::make_unique<ProducerClient>(socket_path());
    send_until(*client, 300);

    EXPECT_EQ(history_when(new_master, 300, *daemon), sent_codes());
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
    // The spool only tells the test when bscd has had the master's answer
    // for all 100 (its confirmed mark): killed before that, the master
    // would leave codes bscd still holds as unconfirmed and sends anyway,
    // and the tail would not be what restores them.
    auto daemon = start_bscd({"--spool", dir.path()});
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
    ASSERT_TRUE(wait_until([&] { return spool_all_confirmed(dir.file("bscd-demo.spool")); }, 10s))
        << "bscd never had the master's answer for every code";
    group.kill_node(old_master);
    for (int node : replicas) {
        group.resume_node(node);
    }
    const int new_master = group.wait_for_new_master(old_master);
    send_until(client, 150);

    EXPECT_EQ(history_when(new_master, 150, *daemon), first_codes(150));
    EXPECT_NE(daemon->output().find("lacked"), std::string::npos)
        << "the new master had every code: the test did not lose the window\n"
        << daemon->output().substr(daemon->output().size() -
                                   std::min<std::size_t>(daemon->output().size(), 6000));
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

    EXPECT_EQ(history_when(new_master, 300, *daemon), sent_codes());
    group.wait_for_replica(old_master);
    EXPECT_EQ(history_when(old_master, 300, *daemon), sent_codes());
}

}  // namespace
}  // namespace bscd::test
