// What bscd keeps about a build beside its history, for estimates: the
// build's start and profile (kept across restarts), and, once the build
// ended, its record in the profile's list (once, however often the final
// code comes or bscd starts again), and the operator's index of builds.

#include "core/build_record.hpp"

#include <csignal>
#include <string>
#include <vector>

#include "core/cluster_slot.hpp"
#include "core/unix_ms.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

const std::string build_hash = "{bscd-demo:events}:build";

class BuildRecordTest : public BscdTest {
protected:
    std::string field(const std::string& name) {
        return redis.command({"HGET", build_hash, name}).str;
    }
    long long started() { return std::stoll("0" + field("started")); }

    std::vector<BuildRecord> profile(const std::string& name) {
        std::vector<BuildRecord> records;
        for (const Reply& r :
             redis.command({"LRANGE", "bscd-profile:" + name, "0", "-1"}).elements) {
            const auto record = BuildRecord::from_json(r.str);
            EXPECT_TRUE(record) << r.str;
            if (record) {
                records.push_back(*record);
            }
        }
        return records;
    }

    void stop(Process& daemon) {
        EXPECT_EQ(exchange(socket_path(), "EXIT\n"), "OK\n");
        EXPECT_EQ(daemon.wait(), 0) << daemon.output();
    }
};

TEST_F(BuildRecordTest, TheStartAndProfileAreKeptBesideTheHistoryAndListed) {
    const std::int64_t before = unix_ms_now();
    auto daemon = start_bscd({"--profile", "bookworm-arm64"});
    const std::int64_t after = unix_ms_now();
    EXPECT_GE(started(), before);
    EXPECT_LE(started(), after);
    EXPECT_EQ(field("profile"), "bookworm-arm64");
    EXPECT_GT(redis.command({"PTTL", build_hash}).integer, 0);  // it goes with the history
    EXPECT_EQ(redis.command({"ZSCORE", "bscd-builds", "demo"}).str, std::to_string(started()));
    // The same slot as the stream: one script call writes both in a cluster.
    EXPECT_EQ(key_hash_slot(build_hash), key_hash_slot("bscd-demo:events"));
}

TEST_F(BuildRecordTest, AnEndedBuildIsRecordedInItsProfileOnce) {
    auto daemon = start_bscd({"--profile", "p"});
    EXPECT_EQ(exchange(socket_path(), "10\n20\n1000\n"), "OK\nOK\nOK\n");
    ASSERT_TRUE(wait_until([&] { return profile("p").size() == 1; })) << daemon->output();
    const BuildRecord record = profile("p")[0];
    EXPECT_EQ(record.build, "demo@" + std::to_string(started()));
    EXPECT_EQ(record.started_ms, started());
    EXPECT_EQ(record.outcome, 1000);
    ASSERT_EQ(record.stages.size(), 3U);
    EXPECT_EQ(record.stages[0].code, 10);
    EXPECT_EQ(record.stages[1].code, 20);
    EXPECT_EQ(record.stages[2].code, 1000);

    // The final code again, and bscd started again after the end: the
    // history has it twice, the profile the build once.
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return history().size() == 4; }));
    stop(*daemon);
    auto again = start_bscd({"--profile", "p"});
    EXPECT_EQ(started(), record.started_ms);  // the build Redis has is the one that ended
    stop(*again);
    EXPECT_EQ(profile("p").size(), 1U);
    EXPECT_EQ(history().size(), 4U);
}

TEST_F(BuildRecordTest, WithoutAProfileNothingIsRecorded) {
    auto daemon = start_bscd();
    EXPECT_EQ(field("profile"), "");
    EXPECT_GT(started(), 0);  // every stage, the first included, has a time
    EXPECT_EQ(exchange(socket_path(), "10\n1000\n"), "OK\nOK\n");
    ASSERT_TRUE(wait_until([&] { return history().size() == 2; }));
    stop(*daemon);
    EXPECT_TRUE(redis.command({"KEYS", "bscd-profile:*"}).elements.empty());
}

TEST_F(BuildRecordTest, ARestartKeepsTheStartRedisHas) {
    auto daemon = start_bscd({"--profile", "p"});
    const long long first = started();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    stop(*daemon);
    // However late: the build began when the first bscd started.
    ASSERT_TRUE(wait_until([&] { return unix_ms_now() > first + 5; }));
    auto again = start_bscd({"--profile", "p"});
    EXPECT_EQ(started(), first);
}

TEST_F(BuildRecordTest, TheSpoolKeepsTheStartWhenRedisLostIt) {
    const std::vector<std::string> args{"--profile", "p", "--spool", dir.path()};
    auto daemon = start_bscd(args);
    const long long first = started();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return history().size() == 1; }));
    daemon->kill();
    (void)daemon->wait();
    // A failover to a replica that never had it (or an operator's mistake).
    ASSERT_EQ(redis.command({"DEL", build_hash}).integer, 1);
    ASSERT_TRUE(wait_until([&] { return unix_ms_now() > first + 5; }));
    auto again = start_bscd(args);
    EXPECT_EQ(started(), first);
    EXPECT_EQ(field("profile"), "p");
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return profile("p").size() == 1; })) << again->output();
    EXPECT_EQ(profile("p")[0].started_ms, first);
}

TEST_F(BuildRecordTest, TheHistoryScriptWritesTheStartAgainWhenRedisLostIt) {
    auto daemon = start_bscd({"--profile", "p"});
    const long long first = started();
    ASSERT_EQ(redis.command({"DEL", build_hash}).integer, 1);
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return started() == first; }));
    EXPECT_EQ(field("profile"), "p");
    // The stream's lifetime (read a moment apart: within a second).
    EXPECT_NEAR(redis.command({"PTTL", build_hash}).integer,
                redis.command({"PTTL", "bscd-demo:events"}).integer, 1000);
}

TEST_F(BuildRecordTest, TheProfileKeepsItsNewestBuilds) {
    // Each build a project of its own, as Pieman names them.
    for (int build = 0; build < 3; ++build) {
        const std::string project = "b" + std::to_string(build);
        auto daemon = start_bscd({"--profile", "p"}, project);
        EXPECT_EQ(exchange(socket_path(project), "10\n1000\n"), "OK\nOK\n");
        EXPECT_EQ(exchange(socket_path(project), "EXIT\n"), "OK\n");
        EXPECT_EQ(daemon->wait(), 0) << daemon->output();
    }
    const auto records = profile("p");
    ASSERT_EQ(records.size(), 3U);
    EXPECT_EQ(records[0].build.substr(0, 3), "b2@");  // newest first
    EXPECT_EQ(records[2].build.substr(0, 3), "b0@");
    EXPECT_GT(redis.command({"PTTL", "bscd-profile:p"}).integer, 0);
    EXPECT_EQ(redis.command({"ZCARD", "bscd-builds"}).integer, 3);
}

}  // namespace
}  // namespace bscd::test
