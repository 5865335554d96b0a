// bscd-gateway under load: a thousand viewers on one Redis subscription, and
// a viewer too slow to keep up, which is dropped without slowing the others
// and resumes without missing anything.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/gateway_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/sse_client.hpp"
#include "support/sse_swarm.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

const std::string sse_viewers = R"(bscd_gateway_viewers{transport="sse"})";

// Local ports of the established TCP connections of process `pid` to
// 127.0.0.1:remote_port (from /proc: the sockets it holds, matched with
// /proc/net/tcp by inode).
std::set<int> connections_to(pid_t pid, int remote_port) {
    std::set<std::string> inodes;
    std::error_code error;
    for (const auto& fd :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
        const std::string target = std::filesystem::read_symlink(fd.path(), error).string();
        if (!error && target.starts_with("socket:[")) {
            inodes.insert(target.substr(8, target.size() - 9));
        }
    }
    std::set<int> ports;
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // header
    while (std::getline(table, line)) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        const auto port_of = [](const std::string& address) {
            return std::stoi(address.substr(address.find(':') + 1), nullptr, 16);
        };
        if (state == "01" && inodes.contains(inode) && port_of(remote) == remote_port) {
            ports.insert(port_of(local));
        }
    }
    return ports;
}

// Reads an SSE stream on its own thread, collecting the event ids.
class Collector {
public:
    explicit Collector(SseClient& client)
        : thread_([this, &client](const std::stop_token& stop) {
              while (!stop.stop_requested()) {
                  if (auto event = client.next_event(100ms)) {
                      const std::lock_guard lock(mutex_);
                      ids_.push_back(event->id);
                  } else if (client.ended()) {
                      ended_ = true;
                      return;
                  }
              }
          }) {}

    std::size_t count() const {
        const std::lock_guard lock(mutex_);
        return ids_.size();
    }
    std::vector<std::string> ids() const {
        const std::lock_guard lock(mutex_);
        return ids_;
    }
    bool ended() const { return ended_; }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> ids_;
    std::atomic<bool> ended_ = false;
    std::jthread thread_;  // last: stopped and joined first
};

class GatewayLoadTest : public GatewayTest {
protected:
    long long subscribers() {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-demo"}).elements.at(1).integer;
    }

    // CLIENT LIST lines of connections from these local ports.
    std::size_t redis_clients_from(const std::set<int>& ports) {
        std::istringstream lines(redis.command({"CLIENT", "LIST"}).str);
        std::size_t count = 0;
        for (std::string line; std::getline(lines, line);) {
            const auto addr = line.find(" addr=127.0.0.1:");
            if (addr != std::string::npos && ports.contains(std::stoi(line.substr(
                                                 addr + std::string(" addr=127.0.0.1:").size())))) {
                ++count;
            }
        }
        return count;
    }

    // `count` codes 10 through one connection, pipelined.
    void pump(ProducerClient& producer, std::size_t count) {
        std::string requests;
        for (std::size_t i = 0; i < count; ++i) {
            requests += "10\n";
        }
        producer.write(requests);
        const std::string replies = producer.read_lines(count, 30s);
        ASSERT_EQ(static_cast<std::size_t>(std::count(replies.begin(), replies.end(), '\n')),
                  count);
        ASSERT_EQ(replies.find("ERR"), std::string::npos) << replies.substr(0, 200);
    }

    double dropped_slow() const {
        return gateway_metric("bscd_gateway_viewers_dropped_slow_total").value_or(0);
    }
};

TEST_F(GatewayLoadTest, ThousandViewersShareOneSubscription) {
    constexpr std::size_t viewers = 1000;
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    send_codes({"10"});
    auto ids = wait_history(1);

    SseSwarm swarm(gateway_port(), demo_events_path, viewers);
    ASSERT_TRUE(swarm.wait_streaming(60s))
        << swarm.streaming() << " streaming; " << swarm.failures();
    EXPECT_TRUE(swarm.wait_received(ids[0], 30s)) << swarm.received(ids[0]) << " got the history";
    EXPECT_TRUE(wait_until([&] { return gateway_metric(sse_viewers) == viewers; }, 10s))
        << gateway_metric(sse_viewers).value_or(-1);
    EXPECT_EQ(gateway_metric("bscd_gateway_projects_followed"), 1.0);
    EXPECT_TRUE(wait_until([&] { return subscribers() == 1; })) << subscribers();

    const std::set<int> redis_links = connections_to(gateway->pid(), redis.port());
    EXPECT_GE(redis_links.size(), 1u);
    EXPECT_LE(redis_links.size(), 2u) << "the gateway's Redis connections";
    EXPECT_EQ(redis_clients_from(redis_links), redis_links.size())
        << redis.command({"CLIENT", "LIST"}).str;

    send_codes({"20"});
    ids = wait_history(2);
    EXPECT_TRUE(swarm.wait_received(ids[1], 30s)) << swarm.received(ids[1]) << " of " << viewers
                                                  << " got the live event; " << swarm.failures();
    EXPECT_EQ(swarm.malformed_events(), 0u);
    EXPECT_EQ(swarm.failed(), 0u) << swarm.failures();
    EXPECT_EQ(subscribers(), 1);
    EXPECT_GE(gateway_metric("bscd_gateway_events_relayed_total").value_or(0), 2.0 * viewers);

    swarm.close();
    EXPECT_TRUE(wait_until([&] { return subscribers() == 0; }, 15s))
        << "the subscription outlives the last viewer";
    EXPECT_TRUE(wait_until([&] { return gateway_metric(sse_viewers) == 0.0; }))
        << gateway_metric(sse_viewers).value_or(-1);
    EXPECT_EQ(gateway_metric("bscd_gateway_projects_followed"), 0.0);
}

TEST_F(GatewayLoadTest, SlowViewerIsDroppedWithoutSlowingOthersAndResumes) {
    // History long enough to hold every code of the test.
    auto daemon = start_bscd({"--history-length", "100000"});
    auto gateway = start_gateway({"--viewer-queue", "16"});
    SseClient slow(gateway_port(), demo_events_path, {.headers = {}, .receive_buffer = 2048});
    ASSERT_EQ(slow.status(), 200);
    SseClient normal(gateway_port(), demo_events_path);
    ASSERT_EQ(normal.status(), 200);
    Collector collector(normal);

    // Never more codes on their way than the queue holds: each batch waits
    // until the normal viewer has it, so a viewer that keeps up is never
    // that far behind, while the slow one falls further back every batch.
    ProducerClient producer(socket_path());
    constexpr std::size_t batch = 16;
    constexpr std::size_t most = 20000;
    std::size_t sent = 0;
    while (sent < most && dropped_slow() < 1) {
        ASSERT_NO_FATAL_FAILURE(pump(producer, batch));
        sent += batch;
        ASSERT_TRUE(wait_until([&] { return collector.count() >= sent || collector.ended(); }, 10s))
            << "the normal viewer has " << collector.count() << " of " << sent;
        ASSERT_FALSE(collector.ended()) << "the normal viewer was disconnected after "
                                        << collector.count() << " of " << sent << " events";
    }
    EXPECT_TRUE(wait_until([&] { return dropped_slow() >= 1; }, 10s))
        << "not dropped after " << sent << " codes";

    EXPECT_TRUE(wait_until([&] { return collector.count() >= sent || collector.ended(); }, 60s));
    const auto ids = wait_history(sent);
    EXPECT_FALSE(collector.ended()) << "the normal viewer was disconnected after "
                                    << collector.count() << " of " << sent << " events";
    EXPECT_EQ(dropped_slow(), 1.0) << "only the slow viewer is dropped; gateway log:\n"
                                   << gateway->output().substr(0, 4000);
    EXPECT_EQ(collector.ids(), ids)
        << "the normal viewer got " << collector.count() << " of " << sent;

    // The slow one: what it got before the cut is the start of the history,
    // and it resumes from there missing nothing.
    ASSERT_TRUE(slow.wait_ended(30s)) << "the slow viewer was not disconnected";
    std::vector<std::string> slow_ids;
    while (auto event = slow.next_event(0ms)) {
        slow_ids.push_back(event->id);
    }
    ASSERT_LT(slow_ids.size(), ids.size());
    EXPECT_EQ(slow_ids, std::vector<std::string>(ids.begin(),
                                                 ids.begin() + static_cast<long>(slow_ids.size())));
    HttpHeaders resume;
    if (!slow_ids.empty()) {
        resume.emplace_back("Last-Event-ID", slow_ids.back());
    }
    SseClient resumed(gateway_port(), demo_events_path, {.headers = resume});
    ASSERT_EQ(resumed.status(), 200);
    std::vector<std::string> rest;
    for (const auto& event : resumed.events(ids.size() - slow_ids.size(), 30s)) {
        rest.push_back(event.id);
    }
    EXPECT_EQ(rest, std::vector<std::string>(ids.begin() + static_cast<long>(slow_ids.size()),
                                             ids.end()));
}

TEST_F(GatewayLoadTest, ViewerWhoseWritesStallIsDroppedAtAHeartbeat) {
    // A queue too large to overflow: only the stalled write can give it away.
    auto daemon = start_bscd({"--history-length", "100000"});
    auto gateway = start_gateway({"--viewer-queue", "1000000", "--heartbeat", "1"});
    SseClient stalled(gateway_port(), demo_events_path, {.headers = {}, .receive_buffer = 2048});
    ASSERT_EQ(stalled.status(), 200);

    // Enough to fill the socket buffers of a viewer that reads nothing, then
    // nothing more: no new event will ever find it behind.
    ProducerClient producer(socket_path());
    for (int round = 0; round < 40 && dropped_slow() < 1; ++round) {
        ASSERT_NO_FATAL_FAILURE(pump(producer, 500));
    }
    EXPECT_TRUE(wait_until([&] { return dropped_slow() >= 1; }, 10s))
        << "a viewer that reads nothing still holds its connection; gateway log:\n"
        << gateway->output().substr(0, 2000);
    EXPECT_TRUE(stalled.wait_ended(10s));
    EXPECT_TRUE(wait_until([&] { return gateway_metric(sse_viewers) == 0.0; }));
}

}  // namespace
}  // namespace bscd::test
