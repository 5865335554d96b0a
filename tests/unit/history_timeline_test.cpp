// A build's stored entries into its timeline (core/history_timeline.hpp),
// the one way bsc and the gateway take them.

#include "core/history_timeline.hpp"

#include <gtest/gtest.h>

namespace bscd {
namespace {

HistoryTimeline::Fields stored(int code, std::int64_t ts_ms) {
    return {{"code", std::to_string(code)}, {"ts", std::to_string(ts_ms)}};
}

TEST(HistoryTimeline, TakesEntriesIntoEventsAndRemembersTheLastId) {
    const Catalog& catalog = Catalog::builtin();
    HistoryTimeline history("demo", catalog);
    EXPECT_FALSE(history.last_id());

    const auto first = history.take(EntryId{100, 0}, stored(10, 100));
    ASSERT_TRUE(first.entry);
    ASSERT_TRUE(first.event);
    EXPECT_EQ(first.event->code->value, 10);
    EXPECT_EQ(first.event->project, "demo");

    const auto second = history.take(EntryId{200, 0}, stored(20, 200));
    ASSERT_TRUE(second.event);
    EXPECT_EQ(history.timeline().event_count(), 2u);
    EXPECT_EQ(history.timeline().last_stage()->duration_ms, 100);
    EXPECT_EQ(history.last_id(), (EntryId{200, 0}));
}

TEST(HistoryTimeline, AMalformedEntryIsSkippedButCountsAsRead) {
    const Catalog& catalog = Catalog::builtin();
    HistoryTimeline history("demo", catalog);
    const auto taken = history.take(EntryId{5, 1}, {{"code", "ten"}, {"ts", "5"}});
    EXPECT_FALSE(taken.entry);
    EXPECT_FALSE(taken.event);
    EXPECT_TRUE(history.timeline().empty());
    EXPECT_EQ(history.last_id(), (EntryId{5, 1})) << "the next read starts after it";
}

TEST(HistoryTimeline, AnUnknownCodeIsReadButMakesNoEvent) {
    const Catalog& catalog = Catalog::builtin();
    HistoryTimeline history("demo", catalog);
    const auto taken = history.take(EntryId{7, 0}, stored(99999, 7));
    ASSERT_TRUE(taken.entry);
    EXPECT_EQ(taken.entry->code, 99999);
    EXPECT_FALSE(taken.event);
}

}  // namespace
}  // namespace bscd
