// The spool file itself (src/server/spool.hpp), on a real filesystem: what a
// restart finds, the marks of what Redis confirmed, the cut of a large
// confirmed spool, the rewrite of a large spool, the lock.

#include <deque>
#include <filesystem>

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

TEST(SpoolFileTest, OneDaemonAtATime) {
    TempDir dir;
    Spool first(dir.path(), "bscd-demo");
    EXPECT_THROW(Spool(dir.path(), "bscd-demo"), StartupError);
    Spool other_channel(dir.path(), "bscd-other");
}

}  // namespace
}  // namespace bscd::test
