// The history stream bscd keeps beside the live channel (docs/architecture.md,
// "Redis keys" and "The history script"): capped, expiring after a final code,
// and written once per code even when Redis forgets the script.

#include <string>
#include <vector>

#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/subscriber.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

class HistoryTest : public BscdTest {
protected:
    long long xlen() { return redis.command({"XLEN", "bscd-demo:events"}).integer; }
    long long ttl() { return redis.command({"TTL", "bscd-demo:events"}).integer; }
    // Entries ever written to the stream, trimmed ones included (Redis 7).
    long long entries_added() {
        const Reply info = redis.command({"XINFO", "STREAM", "bscd-demo:events"});
        for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
            if (info.elements[i].str == "entries-added") {
                return info.elements[i + 1].integer;
            }
        }
        return 0;
    }

    void send_many(const std::string& code, int count) {
        std::string requests;
        for (int i = 0; i < count; ++i) {
            requests += code + "\n";
        }
        const std::string replies = exchange(socket_path(), requests);
        ASSERT_EQ(replies.find("ERR"), std::string::npos);
    }
};

TEST_F(HistoryTest, LengthIsCapped) {
    auto daemon = start_bscd({"--history-length", "10"});
    send_many("10", 2000);
    ASSERT_TRUE(wait_until([&] { return entries_added() == 2000; }));
    // Redis trims whole nodes (MAXLEN ~): at least 10 are kept, and far
    // fewer than 2000.
    EXPECT_GE(xlen(), 10);
    EXPECT_LE(xlen(), 10 + 200);
}

TEST_F(HistoryTest, ExpiresSoonAfterAFinalCodeAndLateWithoutOne) {
    auto daemon = start_bscd({"--history-ttl", "600", "--history-idle-ttl", "86400"});
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return xlen() == 1; }));
    // A build in progress (or one that died silently) keeps it a day here.
    EXPECT_GT(ttl(), 600);
    EXPECT_LE(ttl(), 86400);
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return ttl() > 0 && ttl() <= 600; }));
    // The project name reused for a new build: its history must not expire
    // under it at the old build's pace.
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_TRUE(wait_until([&] { return ttl() > 600; }));
}

TEST_F(HistoryTest, ScriptFlushedByAnOperatorIsLoadedAgain) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "10");
    EXPECT_EQ(redis.command({"SCRIPT", "FLUSH"}).str, "OK");
    EXPECT_EQ(exchange(socket_path(), "20\n21\n"), "OK\nOK\n");
    EXPECT_EQ(subscriber.collect(2, 10s), (std::vector<std::string>{"20", "21"}));
    EXPECT_TRUE(sentinel_comes_next(subscriber, "30"));
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20", "21", "30"}));
    // What bscd met: Redis answered its EVALSHA NOSCRIPT.
    EXPECT_GE(redis.errors_of("NOSCRIPT"), 1) << daemon->output();
}

TEST_F(HistoryTest, EntriesCarryCodeNameAndAcceptanceTime) {
    auto daemon = start_bscd();
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    EXPECT_EQ(exchange(socket_path(), "SYNCED_CODE\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return xlen() == 1; }));
    const Reply entries = redis.command({"XRANGE", "bscd-demo:events", "-", "+"});
    ASSERT_EQ(entries.elements.size(), 1u);
    const auto& fields = entries.elements[0].elements.at(1).elements;
    ASSERT_EQ(fields.size(), 6u);
    EXPECT_EQ(fields[0].str, "code");
    EXPECT_EQ(fields[1].str, "82");
    EXPECT_EQ(fields[2].str, "name");
    EXPECT_EQ(fields[3].str, "SYNCED_CODE");
    EXPECT_EQ(fields[4].str, "ts");
    const long long ts = std::stoll(fields[5].str);
    EXPECT_GE(ts, before);
    EXPECT_LE(ts, before + 5000);
    // The entry id is bscd's own: milliseconds of acceptance, then a sequence.
    EXPECT_EQ(entries.elements[0].elements.at(0).str, fields[5].str + "-0");
}

}  // namespace
}  // namespace bscd::test
