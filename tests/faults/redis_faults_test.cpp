// A 10,000-code stream while the link to Redis is cut and restored three
// times and Redis itself is killed (SIGKILL) and restarted: every accepted
// code is in the history exactly once, in order, and on the channel exactly
// once, in order, for a subscriber connected throughout. And a Redis paused
// for 5 s: bscd keeps accepting.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/bscd_fixture.hpp"
#include "support/code_stream.hpp"
#include "support/producer_client.hpp"
#include "support/subscriber.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

// Redis that survives its own SIGKILL: every write is in its append-only
// file, fsynced, before Redis answers it (and so before bscd forgets it).
RedisServer::Options durable_redis() {
    RedisServer::Options options;
    options.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
    return options;
}

class RedisFaultsTest : public ProxiedBscdTest {
protected:
    RedisFaultsTest() : ProxiedBscdTest(durable_redis()) {}

    static constexpr std::size_t stream_length = 10'000;
    static constexpr std::size_t chunk = 100;  // codes per write

    CodeStream stream{dir.path(), stream_length};

    std::unique_ptr<Process> start_streaming_bscd() {
        return start_bscd_via_proxy({"--codes", stream.catalog_file(), "--history-length",
                                     std::to_string(2 * stream_length)});
    }

    // Sends chunks until `until` codes were sent; every one must be accepted.
    void send_until(ProducerClient& client, std::size_t until) {
        while (stream.sent() < until) {
            const auto refused = stream.send(client, std::min(chunk, until - stream.sent()));
            ASSERT_TRUE(refused.empty()) << refused.front();
        }
    }

    // "Nothing more was published", so that a late duplicate cannot slip
    // past: the stream's next code is the next message heard.
    ::testing::AssertionResult next_code_comes_next(ProducerClient& client,
                                                    Subscriber& subscriber) {
        send_until(client, stream.sent() + 1);
        const std::string& sentinel = stream.codes()[stream.sent() - 1];
        const auto next = subscriber.next(10s);
        if (next != sentinel) {
            return ::testing::AssertionFailure()
                   << "the next message was " << next.value_or("none (10 s)")
                   << ", not the sentinel " << sentinel;
        }
        return ::testing::AssertionSuccess();
    }

    void wait_for_history(std::size_t length, const Process& daemon) {
        ASSERT_TRUE(
            wait_until([&] { return history_length() == static_cast<long long>(length); }, 60s))
            << "history has " << history_length() << " of " << length << "\n"
            << daemon.output().substr(0, 4000);
    }
};

TEST_F(RedisFaultsTest, LinkCutThreeTimesThenRedisKilledLosesAndRepeatsNothing) {
    auto daemon = start_streaming_bscd();
    auto subscriber = std::make_unique<Subscriber>(redis, "bscd-demo");  // stays through the cuts
    ProducerClient client(socket_path());

    // Three cuts, each in the middle of a burst, with codes accepted while
    // the link is down.
    for (std::size_t cut = 0; cut < 3; ++cut) {
        const std::size_t at = 1000 + cut * 2000;
        send_until(client, at);
        proxy.cut();
        send_until(client, at + 500);
        proxy.restore();
        ASSERT_TRUE(
            wait_until([&] { return links_ready() == static_cast<long long>(cut) + 2; }, 30s))
            << daemon->output().substr(0, 4000);
    }
    send_until(client, 7000);
    wait_for_history(7000, *daemon);
    EXPECT_EQ(subscriber->collect(7000, 30s),
              std::vector<std::string>(stream.codes().begin(), stream.codes().begin() + 7000));
    EXPECT_TRUE(next_code_comes_next(client, *subscriber)) << "a code was published twice";

    // Redis killed in the middle of a burst: no subscriber survives that,
    // so a new one listens once Redis is back (bscd is kept away until then).
    send_until(client, 7200);
    redis.kill();
    subscriber.reset();
    send_until(client, 7700);
    proxy.cut();
    redis.start();  // replays its append-only file
    subscriber = std::make_unique<Subscriber>(redis, "bscd-demo");
    const auto published_before = static_cast<std::size_t>(history_length());
    proxy.restore();
    send_until(client, stream_length - 1);  // the last is the sentinel
    wait_for_history(stream_length - 1, *daemon);

    // Everything Redis had not published before it died comes once, in order.
    const std::vector<std::string> rest(
        stream.codes().begin() + static_cast<std::ptrdiff_t>(published_before),
        stream.codes().end() - 1);
    EXPECT_EQ(subscriber->collect(rest.size(), 30s), rest);
    EXPECT_TRUE(next_code_comes_next(client, *subscriber)) << "a code was published twice";
    wait_for_history(stream_length, *daemon);
    EXPECT_EQ(stream.accepted(), stream.codes());
    EXPECT_EQ(history(), stream.codes()) << "the history differs from what was accepted";
}

TEST_F(RedisFaultsTest, RedisPausedForFiveSecondsDoesNotStopAccepting) {
    auto daemon = start_streaming_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    ProducerClient client(socket_path());
    send_until(client, 100);
    wait_for_history(100, *daemon);

    redis.pause();
    // A producer at a steady 200 codes/s for the 5 s: every code is
    // answered while Redis is still stopped.
    const auto start = std::chrono::steady_clock::now();
    std::size_t during_pause = 0;
    for (auto next = start; next < start + 5s; next += 50ms) {
        std::this_thread::sleep_until(next);  // pacing the producer, not waiting for an event
        const auto refused = stream.send(client, 10);
        ASSERT_TRUE(refused.empty()) << refused.front();
        during_pause += 10;
    }
    redis.resume();
    EXPECT_EQ(during_pause, 1000U);
    EXPECT_TRUE(daemon->running());
    send_until(client, stream.sent() + 100);
    wait_for_history(stream.sent(), *daemon);
    EXPECT_EQ(history(), stream.accepted());
    EXPECT_EQ(subscriber.collect(stream.sent(), 30s), stream.accepted());
    EXPECT_TRUE(next_code_comes_next(client, subscriber));
}

}  // namespace
}  // namespace bscd::test
