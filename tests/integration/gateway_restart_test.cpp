// bscd-gateway killed and started again while a build streams codes: its
// viewers come back as browsers do (SSE with Last-Event-ID, WebSocket with
// ?after=) and end with every code exactly once, in order. The gateway keeps
// nothing of its own: Redis's history is the whole truth.

#include <atomic>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include "core/entry_id.hpp"
#include "support/gateway_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/resuming_viewer.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

// Ids that parse as history entry ids, each greater than the one before.
bool strictly_increasing(const std::vector<std::string>& ids) {
    std::optional<EntryId> previous;
    for (const auto& text : ids) {
        const auto id = EntryId::parse(text);
        if (!id || (previous && !(*previous < *id))) {
            return false;
        }
        previous = id;
    }
    return true;
}

class GatewayRestartTest : public GatewayTest {};

TEST_F(GatewayRestartTest, ViewersResumeWithoutAGapAcrossRestarts) {
    constexpr std::size_t total = 3000;  // stage codes, then the final one
    // The producer stays at most this far ahead of the slowest viewer, so
    // that the restarts fall in the middle of the stream, with codes sent
    // while the gateway is away.
    constexpr std::size_t window = 200;
    constexpr std::size_t batch = 10;
    // Sent from another connection while the gateway is away, each time.
    const std::vector<std::string> while_away(20, "21");
    auto daemon = start_bscd({"--history-length", "100000"});
    auto gateway = start_gateway();

    std::vector<std::unique_ptr<ResumingViewer>> viewers;
    viewers.reserve(4);
    for (int i = 0; i < 3; ++i) {
        viewers.push_back(std::make_unique<ResumingViewer>(gateway_port(), demo_events_path));
    }
    viewers.push_back(std::make_unique<ResumingViewer>(
        gateway_port(), demo_ws_path,
        ResumingViewer::Options{.transport = ResumingViewer::Transport::WebSocket}));
    const auto slowest = [&] {
        std::size_t least = SIZE_MAX;
        for (const auto& viewer : viewers) {
            least = std::min(least, viewer->count());
        }
        return least;
    };
    ASSERT_TRUE(wait_until(
        [&] {
            return std::all_of(viewers.begin(), viewers.end(),
                               [](const auto& viewer) { return viewer->connections() == 1; });
        },
        10s))
        << "the viewers did not connect";

    std::atomic<std::size_t> sent = 0;
    std::string producer_error;  // read after the thread is joined
    std::jthread producer([&](const std::stop_token& stop) {
        try {
            ProducerClient client(socket_path());
            std::string requests;
            std::string replies_expected;
            for (std::size_t i = 0; i < batch; ++i) {
                requests += "10\n";
                replies_expected += "OK\n";
            }
            while (sent < total && !stop.stop_requested()) {
                if (!wait_until([&] { return stop.stop_requested() || slowest() + window > sent; },
                                60s)) {
                    producer_error = "the viewers stopped at " + std::to_string(slowest());
                    return;
                }
                client.write(requests);
                const std::string replies = client.read_lines(batch, 10s);
                if (replies != replies_expected) {
                    producer_error = "bscd answered: " + replies.substr(0, 200);
                    return;
                }
                sent += batch;
            }
            client.write("1000\n");
            if (client.read_lines(1, 10s) != "OK\n") {
                producer_error = "the final code was not accepted";
            }
        } catch (const std::exception& e) {
            producer_error = e.what();
        }
    });

    // SIGKILL: the viewers' connections just end.
    ASSERT_TRUE(wait_until([&] { return slowest() >= total / 3; }, 60s)) << slowest();
    gateway->kill();
    EXPECT_EQ(gateway->exit_code(), 128 + SIGKILL);
    const std::size_t at_kill = sent;
    send_codes(while_away);
    gateway = restart_gateway();
    EXPECT_LT(at_kill, total) << "the producer had finished before the gateway was killed";

    // SIGTERM: a clean stop.
    ASSERT_TRUE(wait_until([&] { return slowest() >= 2 * total / 3; }, 60s)) << slowest();
    gateway->signal(SIGTERM);
    EXPECT_EQ(gateway->wait(10s), 0) << gateway->output();
    const std::size_t at_term = sent;
    send_codes(while_away);
    gateway = restart_gateway();
    EXPECT_LT(at_term, total) << "the producer had finished before the gateway was stopped";

    EXPECT_TRUE(wait_until(
        [&] {
            return std::all_of(viewers.begin(), viewers.end(),
                               [](const auto& viewer) { return viewer->finished(); });
        },
        120s))
        << "not every viewer saw the end of the build; the slowest has " << slowest();
    producer.join();
    EXPECT_EQ(producer_error, "");

    const auto history = history_ids();
    ASSERT_EQ(history.size(), total + 2 * while_away.size() + 1);
    EXPECT_TRUE(strictly_increasing(history));
    for (std::size_t i = 0; i < viewers.size(); ++i) {
        viewers[i]->stop();
        const auto ids = viewers[i]->ids();
        EXPECT_EQ(ids.size(), history.size()) << "viewer " << i;
        EXPECT_TRUE(ids == history) << "viewer " << i << " did not get every code exactly once";
        EXPECT_TRUE(strictly_increasing(ids)) << "viewer " << i;
        // The first connection, one after each restart, and (SSE) the last
        // one, answered 204; more when a reconnection raced the restart.
        EXPECT_GE(viewers[i]->connections(), 3u) << "viewer " << i;
        EXPECT_TRUE(viewers[i]->errors().empty())
            << "viewer " << i << ": " << testing::PrintToString(viewers[i]->errors());
    }
}

}  // namespace
}  // namespace bscd::test
