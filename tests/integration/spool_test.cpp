// bscd --spool: an OK means the code is on disk; a bscd killed with codes
// Redis had not confirmed sends them when it starts again with the same
// spool, exactly once; a full disk is an ERR, never a lost or false OK.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/spool_record.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/small_filesystem.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> codes_of(const SpoolScan& scan) {
    std::vector<std::string> codes;
    for (const auto& record : scan.records) {
        codes.push_back(std::to_string(record.code));
    }
    return codes;
}

std::string numbered_codes(int first, int count, std::vector<std::string>& sent) {
    std::string requests;
    const std::vector<std::string> stages{"10", "20", "21", "30", "31", "32", "33",
                                          "40", "50", "60", "70", "80", "81", "82"};
    for (int i = first; i < first + count; ++i) {
        sent.push_back(stages[static_cast<std::size_t>(i) % stages.size()]);
        requests += sent.back() + "\n";
    }
    return requests;
}

std::string oks(std::size_t count) {
    std::string replies;
    for (std::size_t i = 0; i < count; ++i) {
        replies += "OK\n";
    }
    return replies;
}

class SpoolTest : public ProxiedBscdTest {
protected:
    TempDir spool_dir;
    std::string spool_file() const { return spool_dir.file("bscd-demo.spool"); }
    SpoolScan spool() const { return scan_spool(read_file(spool_file())); }
    std::vector<std::string> with_spool(std::vector<std::string> extra = {}) const {
        extra.insert(extra.end(), {"--spool", spool_dir.path()});
        return extra;
    }
};

TEST_F(SpoolTest, AnOkMeansTheCodeIsInTheSpoolUntilRedisConfirmsIt) {
    auto daemon = start_bscd_via_proxy(with_spool());
    proxy.cut();
    EXPECT_EQ(exchange(socket_path(), "10\n20\n"), "OK\nOK\n");
    EXPECT_EQ(codes_of(spool()), (std::vector<std::string>{"10", "20"}));
    proxy.restore();
    ASSERT_TRUE(wait_until([&] { return history_length() == 2; }, 10s)) << daemon->output();
    // Redis confirmed everything: the spool marks it, so nothing would be replayed.
    EXPECT_TRUE(wait_until([&] { return spool().records.empty(); }));
    EXPECT_EQ(spool().confirmed_records, 2U);
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20"}));
}

TEST_F(SpoolTest, KilledDaemonSendsWhatItHeldWhenStartedAgain) {
    auto daemon = start_bscd_via_proxy(with_spool());
    proxy.cut();
    std::vector<std::string> sent;
    EXPECT_EQ(exchange(socket_path(), numbered_codes(0, 100, sent)), oks(100));
    daemon->kill();
    EXPECT_EQ(history_length(), 0);

    auto again = start_bscd(with_spool());  // straight to Redis this time
    ASSERT_TRUE(wait_until([&] { return history_length() == 100; }, 10s)) << again->output();
    EXPECT_EQ(history(), sent);
    EXPECT_NE(again->output().find("sending again 100 codes"), std::string::npos)
        << again->output();
    EXPECT_TRUE(wait_until([&] { return spool().records.empty(); }));
}

TEST_F(SpoolTest, CodesRedisConfirmedAreNotSentAgainEvenOnceTheHistoryExpired) {
    auto daemon = start_bscd(with_spool());
    EXPECT_EQ(exchange(socket_path(), "10\n20\n"), "OK\nOK\n");
    ASSERT_TRUE(wait_until([&] { return spool().confirmed_records == 2; })) << daemon->output();
    daemon->kill();
    // The history expired (a day after the last build) before bscd came back:
    // only the spool's marks keep the two codes from being written again.
    redis.command({"DEL", "bscd-demo:events"});
    auto again = start_bscd(with_spool());
    EXPECT_EQ(exchange(socket_path(), "30\n"), "OK\n");
    EXPECT_TRUE(wait_until([&] { return history_length() == 1; })) << again->output();
    EXPECT_EQ(history(), std::vector<std::string>{"30"});
    EXPECT_EQ(again->output().find("sending again"), std::string::npos) << again->output();
}

TEST_F(SpoolTest, ACleanStopLeavesNothingToReplayButTheBuildsStart) {
    auto daemon = start_bscd(with_spool());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait(10s), 0) << daemon->output();
    const SpoolScan left = spool();
    EXPECT_TRUE(left.records.empty());
    EXPECT_EQ(left.confirmed_records, 0U);
    ASSERT_TRUE(left.build_start);  // a restart goes on with the same build
    EXPECT_EQ(std::to_string(left.build_start->started_ms),
              redis.command({"HGET", "{bscd-demo:events}:build", "started"}).str);
}

TEST_F(SpoolTest, ReplayOfCodesRedisAlreadyHadDuplicatesNothing) {
    auto daemon = start_bscd_via_proxy(with_spool());
    Subscriber subscriber(redis, "bscd-demo");
    proxy.hold_replies(true);  // Redis writes them; bscd never hears so
    std::vector<std::string> sent;
    EXPECT_EQ(exchange(socket_path(), numbered_codes(0, 50, sent)), oks(50));
    ASSERT_TRUE(wait_until([&] { return history_length() == 50; })) << daemon->output();
    EXPECT_EQ(spool().records.size(), 50U);  // unconfirmed
    daemon->kill();

    auto again = start_bscd(with_spool());
    EXPECT_TRUE(wait_until([&] { return spool().records.empty(); })) << again->output();
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    sent.emplace_back("1000");
    EXPECT_EQ(subscriber.collect(51, 10s), sent);
    EXPECT_TRUE(sentinel_comes_next(subscriber, "1001")) << "a replayed code was published twice";
    sent.emplace_back("1001");
    EXPECT_EQ(history(), sent);
}

TEST_F(SpoolTest, TornAndDamagedRecordsAreNotReplayed) {
    {
        std::ofstream file(spool_file(), std::ios::binary);
        file << encode_spool_record({EntryId{1000, 0}, 10, "PREPARED_CHROOT_ENV_CODE", 1000});
        auto damaged = encode_spool_record({EntryId{1001, 0}, 20, "SET_UP_LOCALE_CODE", 1001});
        damaged[damaged.find(" 20 ") + 1] = '3';
        file << damaged;
        file << encode_spool_record({EntryId{1002, 0}, 30, "UPDATED_CODE", 1002});
        const auto torn = encode_spool_record({EntryId{1003, 0}, 40, "X", 1003});
        file << torn.substr(0, torn.size() / 2);
    }
    auto daemon = start_bscd(with_spool());
    ASSERT_TRUE(wait_until([&] { return history().size() == 2; })) << daemon->output();
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "30"}));
    EXPECT_NE(daemon->output().find("1 damaged records skipped"), std::string::npos);
    EXPECT_NE(daemon->output().find("never completed"), std::string::npos);
    // New codes follow the replayed ones.
    EXPECT_EQ(exchange(socket_path(), "50\n"), "OK\n");
    EXPECT_TRUE(wait_until([&] { return history().size() == 3; }));
    EXPECT_EQ(history().back(), "50");
}

TEST_F(SpoolTest, ACodeNoLongerInTheCatalogIsSentAsRecorded) {
    {
        std::ofstream file(spool_file(), std::ios::binary);
        file << encode_spool_record({EntryId{1000, 0}, 77, "RETIRED_CODE", 1000});
    }
    Subscriber subscriber(redis, "bscd-demo");
    auto daemon = start_bscd(with_spool());
    EXPECT_EQ(subscriber.next(), "77");
    EXPECT_NE(daemon->output().find("code 77 (RETIRED_CODE) is not in the catalog"),
              std::string::npos)
        << daemon->output();
}

TEST_F(SpoolTest, TwoDaemonsCannotShareASpool) {
    auto first = start_bscd(with_spool());
    // Another project's socket and pid file, but the same channel.
    Process second(bscd_args(with_spool({"-n", "bscd-demo"}), "other"));
    EXPECT_EQ(second.wait(), 1);
    EXPECT_NE(second.output().find("is in use by another bscd"), std::string::npos)
        << second.output();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(SpoolTest, SpoolNeedsTheHistory) {
    Process daemon(bscd_args(with_spool({"--no-history"})));
    EXPECT_EQ(daemon.wait(), 2);
    EXPECT_NE(daemon.output().find("--spool excludes --no-history"), std::string::npos)
        << daemon.output();
}

TEST_F(SpoolTest, FullDiskIsAnErrAndLosesNothingAccepted) {
    if (!SmallFilesystem::available()) {
        GTEST_SKIP() << "mounting a small filesystem needs root";
    }
    SmallFilesystem disk(std::size_t{64} * 1024);
    const std::vector<std::string> spool_option{"--spool", disk.path()};
    auto daemon = start_bscd_via_proxy(spool_option);
    proxy.cut();  // the spool keeps what it holds
    disk.fill();
    // The spool's last page may still take a few records; then the disk is full.
    ProducerClient client(socket_path());
    std::vector<std::string> accepted;
    std::string reply;
    for (int i = 0; i < 1000 && reply.find("ERR") == std::string::npos; ++i) {
        const std::string code = i % 2 == 0 ? "20" : "21";
        client.write(code + "\n");
        reply = client.read_lines(1);
        if (reply == "OK\n") {
            accepted.push_back(code);
        }
    }
    EXPECT_EQ(reply, "ERR cannot write spool " + disk.file("bscd-demo.spool") +
                         ": No space left on device\n");
    EXPECT_EQ(codes_of(scan_spool(read_file(disk.file("bscd-demo.spool")))), accepted);
    disk.free_up();
    client.write("30\n");
    EXPECT_EQ(client.read_lines(1), "OK\n");
    accepted.emplace_back("30");
    EXPECT_TRUE(daemon->running());
    proxy.restore();
    ASSERT_TRUE(wait_until(
        [&] { return history_length() == static_cast<long long>(accepted.size()); }, 10s))
        << daemon->output();
    EXPECT_EQ(history(), accepted);
}

}  // namespace
}  // namespace bscd::test
