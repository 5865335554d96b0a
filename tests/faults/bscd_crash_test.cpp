// bscd killed (SIGKILL) in the middle of a stream. With --spool, nothing it
// answered OK is missing after a restart, and nothing is there twice; without
// it, what Redis had not confirmed is lost (docs/reliability.md says so).

#include <algorithm>
#include <atomic>
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

class BscdCrashTest : public ProxiedBscdTest {
protected:
    static constexpr std::size_t stream_length = 10'000;
    static constexpr std::size_t chunk = 100;

    TempDir spool_dir;
    CodeStream stream{dir.path(), stream_length};

    std::vector<std::string> stream_args(bool spool) const {
        std::vector<std::string> args{"--codes", stream.catalog_file(), "--history-length",
                                      std::to_string(2 * stream_length)};
        if (spool) {
            args.insert(args.end(), {"--spool", spool_dir.path()});
        }
        return args;
    }

    // Streams codes from another thread, as a build would, and kills bscd
    // once the history has reached `history_at`: in the middle of reading,
    // spooling and publishing. What the producer saw answered OK is kept.
    // The producer keeps at most 1000 codes ahead of that mark, so that a
    // test thread the machine is slow to schedule still kills mid-stream.
    void kill_mid_stream(Process& daemon, long long history_at) {
        const long long bound = std::max(history_at, static_cast<long long>(stream.sent())) + 1000;
        ProducerClient client(socket_path());
        std::atomic<bool> killed = false;
        std::thread producer([&] {
            while (stream.sent() < stream_length && !killed) {
                if (static_cast<long long>(stream.sent()) >= bound) {
                    (void)wait_until([&] { return killed.load(); }, 30s);
                } else if (!stream.send(client, chunk).empty()) {
                    break;  // bscd is gone
                }
            }
        });
        const bool reached = wait_until([&] { return history_length() >= history_at; }, 30s);
        daemon.kill();
        killed = true;
        producer.join();
        ASSERT_TRUE(reached) << daemon.output();
        ASSERT_LT(stream.sent(), stream_length) << "the stream ended before the kill";
    }
};

TEST_F(BscdCrashTest, KilledThreeTimesWithASpoolLosesNothingAccepted) {
    Subscriber subscriber(redis, "bscd-demo");
    for (long long kill = 1; kill <= 3; ++kill) {
        auto daemon = start_bscd_via_proxy(stream_args(true));
        if (kill == 2) {
            proxy.cut();  // this time with codes held for a Redis out of reach
        }
        kill_mid_stream(*daemon, kill == 2 ? 0 : 2500 * kill);
        proxy.restore();
    }
    auto daemon = start_bscd(stream_args(true));
    ProducerClient client(socket_path());
    const std::size_t until_sentinel = stream_length - 1;  // the last code is the sentinel
    while (stream.sent() < until_sentinel) {
        const auto refused = stream.send(client, std::min(chunk, until_sentinel - stream.sent()));
        ASSERT_TRUE(refused.empty()) << refused.front();
    }
    const std::string& before_sentinel = stream.codes()[until_sentinel - 1];
    ASSERT_TRUE(
        wait_until([&] { return !history().empty() && history().back() == before_sentinel; }, 30s))
        << daemon->output();

    const auto stored = history();
    // Every OK is there, once, in order; a code written but not answered
    // before a kill may be there too (at most once).
    EXPECT_TRUE(is_ordered_subset(stored, stream.codes())) << "duplicated or reordered";
    EXPECT_TRUE(is_ordered_subset(stream.accepted(), stored)) << "an accepted code is missing";
    // The channel carried exactly what the history holds, and nothing more:
    // the sentinel comes next.
    EXPECT_EQ(subscriber.collect(stored.size(), 30s), stored);
    ASSERT_TRUE(stream.send(client, 1).empty());
    EXPECT_EQ(subscriber.next(10s), stream.codes().back());
    RecordProperty("accepted", static_cast<int>(stream.accepted().size()));
    RecordProperty("stored", static_cast<int>(stored.size()));
}

TEST_F(BscdCrashTest, WithoutASpoolAKillLosesWhatRedisHadNotConfirmed) {
    auto daemon = start_bscd_via_proxy(stream_args(false));
    ProducerClient client(socket_path());
    ASSERT_TRUE(stream.send(client, chunk).empty());
    ASSERT_TRUE(wait_until([&] { return history_length() == chunk; }));
    proxy.cut();
    ASSERT_TRUE(stream.send(client, chunk).empty());  // answered OK, held in memory only
    daemon->kill();
    proxy.restore();
    auto again = start_bscd(stream_args(false));
    EXPECT_EQ(exchange(socket_path(), stream.codes()[2 * chunk] + "\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return history_length() == chunk + 1; }));
    EXPECT_EQ(history().back(), stream.codes()[2 * chunk]);  // the held 100 are gone
}

}  // namespace
}  // namespace bscd::test
