// The spool file itself (src/server/spool.hpp), on a real filesystem: what a
// restart finds, the marks of what Redis confirmed, the cut of a large
// confirmed spool, the rewrite of a large spool, the lock, and the build's
// start kept through all of them.

#include <deque>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "server/spool.hpp"
#include "server/startup.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {
namespace {

Delivery delivery(std::uint64_t n) {
    const auto codes = Catalog::builtin().codes();
    return Delivery{EntryId{1'700'000'000'000 + n, 0}, &codes[n % codes.size()],
                    static_cast<std::int64_t>(1'700'000'000'000 + n)};
}

TEST(SpoolFileTest, ARestartFindsWhatWasSynced) {
    TempDir dir;
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.append(delivery(1));
        spool.append(delivery(2));
        spool.sync();
    }
    Spool again(dir.path(), "bscd-demo");
    const auto held = again.recovered(Catalog::builtin());
    ASSERT_EQ(held.size(), 2U);
    EXPECT_EQ(held[0].id, delivery(1).id);
    EXPECT_EQ(held[1].code, delivery(2).code);  // the catalog's own entry
    EXPECT_EQ(held[1].accepted_ms, delivery(2).accepted_ms);
}

TEST(SpoolFileTest, ConfirmedCodesAreMarkedAndARestartReplaysOnlyTheOthers) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    {
        Spool spool(dir.path(), "bscd-demo");
        for (std::uint64_t n = 1; n <= 3; ++n) {
            spool.append(delivery(n));
        }
        spool.sync();
        const auto before = spool.size();
        spool.confirmed(delivery(1).id, {delivery(2), delivery(3)});
        EXPECT_GT(spool.size(), before);  // a mark, appended: no cut, no rewrite
        spool.sync();
        EXPECT_EQ(std::filesystem::file_size(file), spool.size());
    }
    Spool again(dir.path(), "bscd-demo");
    const auto held = again.recovered(Catalog::builtin());
    ASSERT_EQ(held.size(), 2U);
    EXPECT_EQ(held[0].id, delivery(2).id);
    EXPECT_EQ(held[1].id, delivery(3).id);
    // The restart kept only what it replays.
    EXPECT_EQ(std::filesystem::file_size(file), again.size());
    EXPECT_EQ(again.size(),
              encode_spool_record({delivery(2).id, delivery(2).code->value, delivery(2).code->name,
                                   delivery(2).accepted_ms})
                      .size() +
                  encode_spool_record({delivery(3).id, delivery(3).code->value,
                                       delivery(3).code->name, delivery(3).accepted_ms})
                      .size());
}

TEST(SpoolFileTest, EverythingConfirmedIsReplayedByNobodyAndTheFileStartsClean) {
    TempDir dir;
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.append(delivery(1));
        spool.sync();
        spool.confirmed(delivery(1).id, {});
        spool.sync();
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_TRUE(again.recovered(Catalog::builtin()).empty());
    EXPECT_EQ(std::filesystem::file_size(dir.file("bscd-demo.spool")), 0U);
}

TEST(SpoolFileTest, EverythingConfirmedPastCutAboveCutsTheFileToNothing) {
    TempDir dir;
    Spool spool(dir.path(), "bscd-demo");
    std::uint64_t n = 0;
    for (; spool.size() <= Spool::cut_above; ++n) {
        spool.append(delivery(n));
        spool.confirmed(delivery(n).id, {});
        ASSERT_GT(spool.size(), 0U) << "cut before " << Spool::cut_above << " bytes";
    }
    spool.append(delivery(n));
    spool.sync();
    spool.confirmed(delivery(n).id, {});
    EXPECT_EQ(spool.size(), 0U);
    EXPECT_EQ(std::filesystem::file_size(dir.file("bscd-demo.spool")), 0U);
    spool.append(delivery(n + 1));  // appends start again at the beginning
    spool.sync();
    EXPECT_EQ(std::filesystem::file_size(dir.file("bscd-demo.spool")), spool.size());
}

TEST(SpoolFileTest, ACleanStopEmptiesTheSpool) {
    TempDir dir;
    Spool spool(dir.path(), "bscd-demo");
    spool.append(delivery(1));
    spool.sync();
    spool.confirmed(delivery(1).id, {});
    spool.empty();
    EXPECT_EQ(std::filesystem::file_size(dir.file("bscd-demo.spool")), 0U);
}

TEST(SpoolFileTest, ALargeSpoolKeepsOnlyWhatIsUnconfirmed) {
    TempDir dir;
    std::deque<Delivery> held;
    {
        Spool spool(dir.path(), "bscd-demo");
        for (std::uint64_t n = 0; spool.size() <= Spool::compact_above; ++n) {
            spool.append(delivery(n));
            held.push_back(delivery(n));
        }
        spool.sync();
        EntryId newest_confirmed;
        while (held.size() > 10) {
            newest_confirmed = held.front().id;
            held.pop_front();
        }
        spool.confirmed(newest_confirmed, held);
        EXPECT_LT(spool.size(), 1000U);
        EXPECT_EQ(std::filesystem::file_size(dir.file("bscd-demo.spool")), spool.size());
        spool.append(delivery(1'000'000));  // the rewritten file takes appends
        spool.sync();
        held.push_back(delivery(1'000'000));
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("bscd-demo.spool.new")));
    Spool again(dir.path(), "bscd-demo");
    const auto found = again.recovered(Catalog::builtin());
    ASSERT_EQ(found.size(), held.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
        EXPECT_EQ(found[i].id, held[i].id);
    }
}

TEST(SpoolFileTest, AMostlyUnconfirmedSpoolIsNotRewritten) {
    TempDir dir;
    Spool spool(dir.path(), "bscd-demo");
    std::deque<Delivery> held;
    for (std::uint64_t n = 0; spool.size() <= Spool::compact_above; ++n) {
        spool.append(delivery(n));
        held.push_back(delivery(n));
    }
    spool.sync();
    const auto size = spool.size();
    const EntryId first = held.front().id;
    held.pop_front();  // one confirmed: a rewrite would copy everything to gain one line
    spool.confirmed(first, held);
    EXPECT_EQ(spool.size(), size + encode_confirmed_mark(first).size());
}

const BuildStart a_start{1'699'999'999'000, "bookworm-arm64"};

TEST(SpoolFileTest, ARecordedBuildStartIsFoundOnReopen) {
    TempDir dir;
    {
        Spool spool(dir.path(), "bscd-demo");
        EXPECT_EQ(spool.build_start(), std::nullopt);
        spool.record_build_start(a_start);
        EXPECT_EQ(spool.build_start(), std::nullopt);  // what the file held when opened
        spool.append(delivery(1));
        spool.sync();
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_EQ(again.build_start(), a_start);
    ASSERT_EQ(again.recovered(Catalog::builtin()).size(), 1U);  // not taken for a code
    EXPECT_EQ(again.damaged_lines(), 0U);
}

TEST(SpoolFileTest, ABuildStartWithoutAProfileIsFoundOnReopen) {
    TempDir dir;
    Spool(dir.path(), "bscd-demo").record_build_start({42, ""});
    EXPECT_EQ(Spool(dir.path(), "bscd-demo").build_start(), (BuildStart{42, ""}));
}

TEST(SpoolFileTest, AStartRecordedAfterCodesIsMovedFirstOnReopen) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.append(delivery(1));
        spool.sync();
        spool.record_build_start(a_start);
    }
    {
        Spool again(dir.path(), "bscd-demo");
        EXPECT_EQ(again.build_start(), a_start);
        EXPECT_EQ(again.recovered(Catalog::builtin()).size(), 1U);
        // First, so that a cut to it keeps it.
        EXPECT_TRUE(read_file(file).starts_with(encode_build_start(a_start))) << read_file(file);
        again.empty();
        EXPECT_EQ(read_file(file), encode_build_start(a_start));
    }
    EXPECT_EQ(Spool(dir.path(), "bscd-demo").build_start(), a_start);
}

TEST(SpoolFileTest, ACleanStopKeepsTheBuildStart) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.append(delivery(1));  // before the start: the cut cannot just keep a head
        spool.sync();
        spool.record_build_start(a_start);
        spool.append(delivery(2));
        spool.sync();
        spool.confirmed(delivery(2).id, {});
        spool.empty();
        EXPECT_EQ(read_file(file), encode_build_start(a_start));
        EXPECT_EQ(spool.size(), encode_build_start(a_start).size());
        spool.empty();  // the start now at the head: cut to it
        EXPECT_EQ(read_file(file), encode_build_start(a_start));
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_EQ(again.build_start(), a_start);
    EXPECT_TRUE(again.recovered(Catalog::builtin()).empty());
}

TEST(SpoolFileTest, TheCutAboveCutAboveKeepsTheBuildStart) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    const std::string start_line = encode_build_start(a_start);
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.record_build_start(a_start);
        std::uint64_t n = 0;
        for (; spool.size() <= Spool::cut_above; ++n) {
            spool.append(delivery(n));
            spool.confirmed(delivery(n).id, {});
        }
        spool.append(delivery(n));
        spool.sync();
        spool.confirmed(delivery(n).id, {});
        EXPECT_EQ(spool.size(), start_line.size());
        EXPECT_EQ(read_file(file), start_line);
        spool.append(delivery(n + 1));  // appends go on after it
        spool.sync();
        EXPECT_EQ(read_file(file).substr(0, start_line.size()), start_line);
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_EQ(again.build_start(), a_start);
    EXPECT_EQ(again.recovered(Catalog::builtin()).size(), 1U);
}

TEST(SpoolFileTest, TheCompactionRewriteKeepsTheBuildStart) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    std::deque<Delivery> held;
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.append(delivery(0));
        spool.sync();
        held.push_back(delivery(0));
        spool.record_build_start(a_start);  // not at the head: the rewrite puts it there
        for (std::uint64_t n = 1; spool.size() <= Spool::compact_above; ++n) {
            spool.append(delivery(n));
            held.push_back(delivery(n));
        }
        spool.sync();
        EntryId newest_confirmed;
        while (held.size() > 10) {
            newest_confirmed = held.front().id;
            held.pop_front();
        }
        spool.confirmed(newest_confirmed, held);
        EXPECT_LT(spool.size(), 1000U);  // it was rewritten
        EXPECT_TRUE(read_file(file).starts_with(encode_build_start(a_start)));
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_EQ(again.build_start(), a_start);
    EXPECT_EQ(again.recovered(Catalog::builtin()).size(), held.size());
}

TEST(SpoolFileTest, MovedCodesKeepTheBuildStart) {
    TempDir dir;
    const std::string file = dir.file("bscd-demo.spool");
    std::deque<Delivery> held;
    {
        Spool spool(dir.path(), "bscd-demo");
        spool.record_build_start(a_start);
        spool.append(delivery(1));
        spool.append(delivery(2));
        spool.sync();
        for (const std::uint64_t n : {1U, 2U}) {
            Delivery later = delivery(n);
            later.id = EntryId{later.id.ms + 1000, 0};  // past another writer's entries
            held.push_back(later);
        }
        spool.moved(held);
        EXPECT_TRUE(read_file(file).starts_with(encode_build_start(a_start)));
    }
    Spool again(dir.path(), "bscd-demo");
    EXPECT_EQ(again.build_start(), a_start);
    const auto found = again.recovered(Catalog::builtin());
    ASSERT_EQ(found.size(), 2U);
    EXPECT_EQ(found[0].id, held[0].id);
    EXPECT_EQ(found[1].id, held[1].id);
}

TEST(SpoolFileTest, OneDaemonAtATime) {
    TempDir dir;
    Spool first(dir.path(), "bscd-demo");
    EXPECT_THROW(Spool(dir.path(), "bscd-demo"), StartupError);
    Spool other_channel(dir.path(), "bscd-other");
}

}  // namespace
}  // namespace bscd::test
