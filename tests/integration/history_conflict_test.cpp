// Entries bscd did not write in the history stream (issue 12, item 6): an
// intruder with a higher id, an entry at one of bscd's own ids, a second
// bscd for the same project. Every code answered OK still reaches the
// history and the channel exactly once, in order, after the intruder; a
// genuine retry is still recognised and not written twice.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/entry_id.hpp"
#include "core/spool_record.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using Codes = std::vector<std::string>;

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

std::string oks(std::size_t count) {
    std::string replies;
    for (std::size_t i = 0; i < count; ++i) {
        replies += "OK\n";
    }
    return replies;
}

// Codes first, first + 1, ... (count of them), as strings.
Codes range(int first, int count) {
    Codes codes;
    for (int value = first; value < first + count; ++value) {
        codes.push_back(std::to_string(value));
    }
    return codes;
}

std::string requests(const Codes& codes) {
    std::string text;
    for (const auto& code : codes) {
        text += code + "\n";
    }
    return text;
}

Codes concat(Codes a, const Codes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// `seen` without the codes that are not in `mine`, i.e. one producer's view.
Codes only(const Codes& seen, const Codes& mine) {
    Codes kept;
    std::copy_if(seen.begin(), seen.end(), std::back_inserter(kept), [&](const std::string& code) {
        return std::find(mine.begin(), mine.end(), code) != mine.end();
    });
    return kept;
}

Codes sorted(Codes codes) {
    std::sort(codes.begin(), codes.end());
    return codes;
}

const std::string conflict_warning = "Conflict in the history of bscd-demo";

class HistoryConflictTest : public ProxiedBscdTest {
protected:
    struct Entry {
        EntryId id;
        std::string code;
        std::string ts;
    };

    HistoryConflictTest() {
        // Codes 100..999, each request distinct: the history says which it was.
        std::ofstream catalog(catalog_file_);
        for (int value = 100; value < 1000; ++value) {
            catalog << "CODE_" << value << "=" << value << "\n";
        }
    }

    std::vector<std::string> codes_option(std::vector<std::string> extra = {}) const {
        extra.insert(extra.end(), {"--codes", catalog_file_});
        return extra;
    }
    // A second bscd's options: the same channel, its own socket ("other").
    std::vector<std::string> second_bscd(std::vector<std::string> extra = {}) const {
        extra.insert(extra.end(), {"-n", "bscd-demo"});
        return codes_option(extra);
    }

    std::vector<Entry> entries() {
        std::vector<Entry> all;
        const Reply reply = redis.command({"XRANGE", "bscd-demo:events", "-", "+"});
        for (const Reply& entry : reply.elements) {
            Entry parsed{EntryId::parse(entry.elements.at(0).str).value_or(EntryId{}), {}, {}};
            const auto& fields = entry.elements.at(1).elements;
            for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
                if (fields[i].str == "code") {
                    parsed.code = fields[i + 1].str;
                } else if (fields[i].str == "ts") {
                    parsed.ts = fields[i + 1].str;
                }
            }
            all.push_back(parsed);
        }
        return all;
    }
    // The entry of `code`, which must be in the history once.
    Entry entry_of(const std::string& code) {
        const auto all = entries();
        const auto it = std::find_if(all.begin(), all.end(),
                                     [&](const Entry& entry) { return entry.code == code; });
        EXPECT_NE(it, all.end()) << code;
        return it == all.end() ? Entry{} : *it;
    }
    // Another writer's entry, as the attacker writes it.
    void intrude(const std::string& id, const std::string& code = "10", const std::string& ts = "1",
                 const std::vector<std::string>& options = {}) {
        std::vector<std::string> command{"XADD", "bscd-demo:events"};
        command.insert(command.end(), options.begin(), options.end());
        command.insert(command.end(), {id, "code", code, "name", "INTRUDER", "ts", ts});
        const Reply reply = redis.command(command);
        ASSERT_EQ(reply.type, Reply::String) << reply.str;
    }
    long long entries_added() {
        const Reply info = redis.command({"XINFO", "STREAM", "bscd-demo:events"});
        for (std::size_t i = 0; i + 1 < info.elements.size(); i += 2) {
            if (info.elements[i].str == "entries-added") {
                return info.elements[i + 1].integer;
            }
        }
        return 0;
    }
    bool history_has(std::size_t length) { return history().size() >= length; }
    // The stream, one entry a line, for failure messages.
    std::string dump() {
        std::string text;
        for (const Entry& entry : entries()) {
            text += entry.id.str() + " " + entry.code + " " + entry.ts + "\n";
        }
        return text;
    }

    std::string catalog_file_ = dir.file("codes");
};

TEST_F(HistoryConflictTest, AnIntruderFarAheadDoesNotSwallowTheCodesAfterIt) {
    auto daemon = start_bscd(codes_option());
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "100\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "100");

    const std::string intruder = "9999999999999-0";
    intrude(intruder);
    EXPECT_EQ(exchange(socket_path(), "101\n102\n103\n"), oks(3));
    EXPECT_EQ(subscriber.collect(3, 15s), range(101, 3)) << daemon->output();
    // Codes after the move go straight in.
    EXPECT_EQ(exchange(socket_path(), "104\n"), "OK\n");
    EXPECT_EQ(subscriber.next(10s), "104") << daemon->output();

    EXPECT_EQ(history(), (Codes{"100", "10", "101", "102", "103", "104"}));
    const auto all = entries();
    for (std::size_t i = 2; i < all.size(); ++i) {
        EXPECT_GT(all[i].id, *EntryId::parse(intruder)) << all[i].id.str();
        // The entry keeps the time bscd accepted the code, not its new id's.
        EXPECT_LT(std::stoull(all[i].ts), now_ms() + 1);
    }
    const std::string output = daemon->output();
    EXPECT_EQ(occurrences(output, conflict_warning), 1U) << output;
    EXPECT_NE(output.find("up to " + intruder), std::string::npos) << output;
    EXPECT_NE(output.find("moving 3 codes"), std::string::npos) << output;
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
}

TEST_F(HistoryConflictTest, AnIntruderThatEmptiedTheStreamDoesNotSwallowCodes) {
    // Trimmed to nothing: the stream remembers only its last id. A code
    // never sent before cannot have been trimmed, so it is not "written".
    auto daemon = start_bscd(codes_option());
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "100\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "100");
    intrude("9999999999999-0", "10", "1", {"MAXLEN", "0"});
    ASSERT_TRUE(history().empty());
    EXPECT_EQ(exchange(socket_path(), "101\n"), "OK\n");
    EXPECT_EQ(subscriber.next(10s), "101") << daemon->output();
    EXPECT_EQ(history(), Codes{"101"});
    EXPECT_EQ(occurrences(daemon->output(), conflict_warning), 1U) << daemon->output();
}

TEST_F(HistoryConflictTest, AnIntruderJustAheadSplitsABatchAndBothHalvesGoInOrder) {
    auto daemon = start_bscd_via_proxy(codes_option());
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "100\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "100");

    // Held while the link is down, bscd's next codes get ids on both sides
    // of the intruder's, and go out together in one batch.
    proxy.cut();
    const std::uint64_t intruder_ms = now_ms() + 1000;
    intrude(std::to_string(intruder_ms) + "-0");
    EXPECT_EQ(exchange(socket_path(), "101\n102\n"), oks(2));
    ASSERT_TRUE(wait_until([&] { return now_ms() > intruder_ms; }));
    EXPECT_EQ(exchange(socket_path(), "103\n104\n"), oks(2));
    proxy.restore();

    EXPECT_EQ(subscriber.collect(4, 20s), range(101, 4)) << daemon->output();
    EXPECT_EQ(history(), (Codes{"100", "10", "101", "102", "103", "104"}));
    // What the test meant: two codes accepted before the intruder's time,
    // two after.
    EXPECT_LT(std::stoull(entry_of("102").ts), intruder_ms);
    EXPECT_GT(std::stoull(entry_of("103").ts), intruder_ms);
    const std::string output = daemon->output();
    EXPECT_EQ(occurrences(output, conflict_warning), 1U) << output;
    EXPECT_NE(output.find("moving 4 codes"), std::string::npos) << output;
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
}

// Codes 101 and 102, held while the link is down, and their records in the
// spool, which tell the test their ids before they reach Redis.
class OwnIdTest : public HistoryConflictTest {
protected:
    std::vector<SpoolRecord> hold(const Codes& codes, const Process& daemon) {
        proxy.cut();
        EXPECT_EQ(exchange(socket_path(), requests(codes)), oks(codes.size()));
        auto records = scan_spool(read_file(spool_dir.file("bscd-demo.spool"))).records;
        EXPECT_EQ(records.size(), codes.size()) << daemon.output();
        return records;
    }
    std::vector<SpoolRecord> hold_two(const Process& daemon) { return hold(range(101, 2), daemon); }
    TempDir spool_dir;
};

TEST_F(OwnIdTest, AnotherCodeAtOneOfBscdsIdsIsAConflict) {
    auto daemon = start_bscd_via_proxy(codes_option({"--spool", spool_dir.path()}));
    Subscriber subscriber(redis, "bscd-demo");
    const auto held = hold_two(*daemon);
    ASSERT_EQ(held.size(), 2U);
    // The very id and acceptance time of 101, but another code.
    intrude(held[0].id.str(), "999", std::to_string(held[0].ts_ms));
    proxy.restore();
    EXPECT_EQ(subscriber.collect(2, 20s), range(101, 2)) << daemon->output();
    EXPECT_EQ(history(), (Codes{"999", "101", "102"}));
    EXPECT_GT(entry_of("101").id, held[1].id);
    EXPECT_EQ(entry_of("101").ts, std::to_string(held[0].ts_ms));
    EXPECT_EQ(occurrences(daemon->output(), conflict_warning), 1U) << daemon->output();
}

TEST_F(OwnIdTest, TheSameCodeAcceptedAtAnotherTimeIsAConflict) {
    auto daemon = start_bscd_via_proxy(codes_option({"--spool", spool_dir.path()}));
    Subscriber subscriber(redis, "bscd-demo");
    const auto held = hold_two(*daemon);
    ASSERT_EQ(held.size(), 2U);
    intrude(held[0].id.str(), "101", "1");
    proxy.restore();
    EXPECT_EQ(subscriber.collect(2, 20s), range(101, 2)) << daemon->output();
    EXPECT_EQ(history(), (Codes{"101", "101", "102"}));
    EXPECT_EQ(entries().at(1).ts, std::to_string(held[0].ts_ms));
    EXPECT_EQ(occurrences(daemon->output(), conflict_warning), 1U) << daemon->output();
}

TEST_F(OwnIdTest, ABatchBehindAConflictWritesNothingEvenWithAnEntryAtItsPredecessorsId) {
    // 300 codes go out as two pipelined batches (256 a call); the second
    // follows the first's last code. Another writer's entry at exactly that
    // id stops the first batch at once, and must not pass for that code when
    // the second batch checks what it follows.
    auto daemon = start_bscd_via_proxy(codes_option({"--spool", spool_dir.path()}));
    Subscriber subscriber(redis, "bscd-demo");
    const Codes codes = range(100, 300);
    const auto held = hold(codes, *daemon);
    ASSERT_EQ(held.size(), codes.size());
    intrude(held[255].id.str(), "999", std::to_string(held[255].ts_ms));
    proxy.restore();
    EXPECT_EQ(subscriber.collect(300, 20s), codes) << daemon->output();
    EXPECT_EQ(history(), concat({"999"}, codes));
    EXPECT_EQ(occurrences(daemon->output(), conflict_warning), 1U) << daemon->output();
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
}

TEST_F(HistoryConflictTest, ARetryAfterALostReplyIsStillSkipped) {
    auto daemon = start_bscd_via_proxy(codes_option());
    Subscriber subscriber(redis, "bscd-demo");
    proxy.hold_replies(true);  // Redis writes them; bscd never hears so
    EXPECT_EQ(exchange(socket_path(), requests(range(100, 50))), oks(50));
    ASSERT_TRUE(wait_until([&] { return history_length() == 50; })) << daemon->output();
    proxy.cut();  // the replies are lost: bscd sends all 50 again
    proxy.hold_replies(false);
    proxy.restore();
    ASSERT_TRUE(wait_until([&] { return links_ready() == 2; }, 15s)) << daemon->output();
    EXPECT_EQ(exchange(socket_path(), "150\n"), "OK\n");
    EXPECT_EQ(subscriber.collect(51, 15s), range(100, 51)) << daemon->output();
    EXPECT_EQ(history(), range(100, 51));
    EXPECT_EQ(entries_added(), 51);
    // What the operator is told is logged once bscd reads Redis's answer,
    // a moment after Redis published the codes. 150 goes out with the 50
    // when it arrives between Redis counting the link's SCRIPT LOAD and bscd
    // reading the reply: then it is 50 of 51.
    EXPECT_TRUE(wait_until([&] {
        const std::string log = daemon->output();
        return log.find("50 of 50 codes were already in Redis") != std::string::npos ||
               log.find("50 of 51 codes were already in Redis") != std::string::npos;
    })) << daemon->output();
    EXPECT_EQ(daemon->output().find("Conflict"), std::string::npos) << daemon->output();
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a resent code was published twice";
}

TEST_F(HistoryConflictTest, ARetryOfEntriesTrimmedSinceIsStillSkipped) {
    // A history of 10 (Redis keeps whole nodes of 100): most of what the
    // first link wrote is gone from the stream when bscd sends it again.
    auto daemon = start_bscd_via_proxy(codes_option({"--history-length", "10"}));
    Subscriber subscriber(redis, "bscd-demo");
    proxy.hold_replies(true);
    EXPECT_EQ(exchange(socket_path(), requests(range(100, 300))), oks(300));
    ASSERT_TRUE(wait_until([&] { return entries_added() == 300; })) << daemon->output();
    ASSERT_LT(history_length(), 300);
    proxy.cut();
    proxy.hold_replies(false);
    proxy.restore();
    ASSERT_TRUE(wait_until([&] { return links_ready() == 2; }, 15s)) << daemon->output();
    EXPECT_EQ(exchange(socket_path(), "400\n"), "OK\n");
    EXPECT_EQ(subscriber.collect(301, 15s), concat(range(100, 300), {"400"})) << daemon->output();
    EXPECT_EQ(entries_added(), 301);
    EXPECT_EQ(history().back(), "400");
    EXPECT_EQ(daemon->output().find("Conflict"), std::string::npos) << daemon->output();
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a resent code was published twice";
}

// Two bscds for one project: `first` straight to Redis, `second` (another
// socket, the same channel) through the proxy, so the test can hold its
// codes while the first writes newer ones.
class TwoBscdsTest : public HistoryConflictTest {
protected:
    // One round: the second accepts `held` while cut off, the first writes
    // `newer` meanwhile; then the second's link is back.
    void round(const Codes& held, const Codes& newer, const Process& second) {
        proxy.cut();
        EXPECT_EQ(exchange(socket_path("other"), requests(held)), oks(held.size()));
        EXPECT_EQ(exchange(socket_path(), requests(newer)), oks(newer.size()));
        ASSERT_TRUE(wait_until([&] { return only(history(), newer) == newer; })) << second.output();
        proxy.restore();
    }
    // Sends each code on its own connection, as Pieman does.
    static void send_one_by_one(const std::string& socket, const Codes& codes) {
        for (const auto& code : codes) {
            EXPECT_EQ(test::exchange(socket, code + "\n"), "OK\n") << code;
        }
    }
};

TEST_F(TwoBscdsTest, BothBuildsCodesAllReachTheHistoryOnce) {
    auto first = start_bscd(codes_option());
    auto second = start_bscd_via_proxy(second_bscd(), "other");
    Subscriber subscriber(redis, "bscd-demo");
    Codes from_first;
    Codes from_second;
    for (int i = 0; i < 3; ++i) {
        const Codes held = range(500 + 10 * i, 5);
        const Codes newer = range(100 + 10 * i, 5);
        round(held, newer, *second);
        from_second = concat(from_second, held);
        from_first = concat(from_first, newer);
        ASSERT_TRUE(wait_until([&] { return only(history(), held) == held; }, 20s))
            << second->output();
    }
    // Then both at once, code by code.
    const Codes first_rest = range(200, 40);
    const Codes second_rest = range(600, 40);
    std::thread other([&] { send_one_by_one(socket_path("other"), second_rest); });
    send_one_by_one(socket_path(), first_rest);
    other.join();
    from_first = concat(from_first, first_rest);
    from_second = concat(from_second, second_rest);

    const Codes all = concat(from_first, from_second);
    ASSERT_TRUE(wait_until([&] { return history_has(all.size()); }, 30s))
        << first->output() << second->output();
    const Codes seen = subscriber.collect(all.size(), 10s);
    const Codes stored = history();
    EXPECT_EQ(sorted(stored), sorted(all)) << dump() << "first:\n"
                                           << first->output() << "second:\n"
                                           << second->output();
    EXPECT_EQ(sorted(seen), sorted(all));
    // Each build's codes in the order it accepted them.
    EXPECT_EQ(only(stored, from_first), from_first);
    EXPECT_EQ(only(stored, from_second), from_second);
    EXPECT_EQ(only(seen, from_first), from_first);
    EXPECT_EQ(only(seen, from_second), from_second);
    EXPECT_GE(occurrences(second->output(), conflict_warning), 3U) << second->output();
    // Nothing more from either bscd: each one's sentinel comes next.
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
    EXPECT_TRUE(sentinel_comes_next(subscriber, "951", "other")) << "a code was published twice";
}

TEST_F(TwoBscdsTest, ASpooledBscdKilledRightAfterAConflictLosesAndRepeatsNothing) {
    TempDir spool_dir;
    auto first = start_bscd(codes_option());
    auto second = start_bscd_via_proxy(second_bscd({"--spool", spool_dir.path()}), "other");
    Subscriber subscriber(redis, "bscd-demo");
    const Codes held = range(500, 20);
    const Codes newer = range(100, 20);
    round(held, newer, *second);
    // The conflict seen: the held codes are spooled again under ids past the
    // first's (or, had bscd been quicker, some are in the history already).
    const EntryId newest_of_first = entry_of(newer.back()).id;
    const auto moved_past_first = [&] {
        const auto spooled = scan_spool(read_file(spool_dir.file("bscd-demo.spool"))).records;
        return !only(history(), held).empty() ||
               (!spooled.empty() && std::all_of(spooled.begin(), spooled.end(), [&](const auto& r) {
                   return newest_of_first < r.id;
               }));
    };
    ASSERT_TRUE(wait_until(moved_past_first, 20s)) << second->output();
    EXPECT_TRUE(wait_until([&] { return occurrences(second->output(), conflict_warning) == 1; }))
        << second->output();
    // Killed before it could send them again under their new ids (it waits
    // a backoff first; should it have been quicker, the spool holds fewer).
    proxy.cut();
    second->kill();
    const auto records = scan_spool(read_file(spool_dir.file("bscd-demo.spool"))).records;
    if (only(history(), held).empty()) {
        ASSERT_EQ(records.size(), held.size());
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(std::to_string(records[i].code), held[held.size() - records.size() + i]);
        EXPECT_GT(records[i].id, newest_of_first) << "an old id left in the spool";
    }

    auto again = start_bscd(second_bscd({"--spool", spool_dir.path()}), "other");
    EXPECT_EQ(exchange(socket_path("other"), "520\n"), "OK\n");
    ASSERT_TRUE(wait_until([&] { return only(history(), {"520"}).size() == 1; }, 10s))
        << again->output();
    EXPECT_EQ(exchange(socket_path(), "120\n"), "OK\n");
    const Codes all_held = concat(held, {"520"});
    const Codes all_newer = concat(newer, {"120"});
    const Codes all = concat(all_newer, all_held);
    ASSERT_TRUE(wait_until([&] { return history_has(all.size()); }, 20s)) << again->output();
    const Codes seen = subscriber.collect(all.size(), 10s);
    const Codes stored = history();
    EXPECT_EQ(sorted(stored), sorted(all));
    EXPECT_EQ(only(stored, all_held), all_held);
    EXPECT_EQ(only(stored, all_newer), all_newer);
    EXPECT_EQ(sorted(seen), sorted(all));
    EXPECT_EQ(occurrences(again->output(), conflict_warning), 0U) << again->output();
    // Nothing more from either bscd: each one's sentinel comes next.
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
    EXPECT_TRUE(sentinel_comes_next(subscriber, "951", "other")) << "a code was published twice";
}

TEST_F(TwoBscdsTest, ASpooledBscdKilledOnceItsMovedCodesLandedRepeatsNothing) {
    TempDir spool_dir;
    auto first = start_bscd(codes_option());
    auto second = start_bscd_via_proxy(second_bscd({"--spool", spool_dir.path()}), "other");
    Subscriber subscriber(redis, "bscd-demo");
    const Codes held = range(500, 20);
    const Codes newer = range(100, 20);
    round(held, newer, *second);
    // Killed as soon as Redis has them: whether bscd heard so is a race,
    // and either way the restarted bscd must not write them again.
    ASSERT_TRUE(wait_until([&] { return only(history(), held) == held; }, 20s)) << second->output();
    second->kill();
    auto again = start_bscd(second_bscd({"--spool", spool_dir.path()}), "other");
    EXPECT_EQ(exchange(socket_path("other"), "520\n"), "OK\n");
    const Codes all = concat(concat(newer, held), {"520"});
    ASSERT_TRUE(wait_until([&] { return history_has(all.size()); }, 20s)) << again->output();
    EXPECT_EQ(subscriber.collect(all.size(), 10s), all);
    EXPECT_EQ(history(), all);
    EXPECT_EQ(again->output().find("Conflict"), std::string::npos) << again->output();
    // Nothing more from either bscd: each one's sentinel comes next.
    EXPECT_TRUE(sentinel_comes_next(subscriber, "950")) << "a code was published twice";
    EXPECT_TRUE(sentinel_comes_next(subscriber, "951", "other")) << "a code was published twice";
}

}  // namespace
}  // namespace bscd::test
