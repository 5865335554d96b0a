// A project feed's life apart from its events (gateway/feed_state.hpp): when
// it reads the stream, when viewers can be placed, and a refusal.

#include "gateway/feed_state.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace bscd {
namespace {

using Reads = FeedState::Reads;

TEST(FeedState, ReadsNothingBeforeTheSubscription) {
    FeedState state;
    EXPECT_FALSE(state.on_announced());
    EXPECT_FALSE(state.on_tick());
    EXPECT_FALSE(state.ready());
    EXPECT_TRUE(std::holds_alternative<FeedState::Unsubscribed>(state.phase()));
}

TEST(FeedState, IsReadyOnceTheWholeHistoryIsRead) {
    FeedState state;
    ASSERT_TRUE(state.on_subscribed());
    state.read_started(true);
    EXPECT_TRUE(state.on_page(false)) << "more pages: read on";
    EXPECT_FALSE(state.ready());
    state.read_started(true);
    EXPECT_FALSE(state.on_page(true));
    EXPECT_TRUE(state.ready());
    EXPECT_EQ(state.reads(), Reads::Idle);
}

TEST(FeedState, AnAnnouncementDuringAReadMakesOneMoreRead) {
    FeedState state;
    ASSERT_TRUE(state.on_subscribed());
    state.read_started(true);
    EXPECT_FALSE(state.on_announced());
    EXPECT_FALSE(state.on_announced());
    EXPECT_EQ(state.reads(), Reads::InFlightAgain);
    EXPECT_TRUE(state.on_page(true));
    state.read_started(true);
    EXPECT_FALSE(state.on_page(true));
}

TEST(FeedState, AFailedReadIsTriedAgainOnTheNextTick) {
    FeedState state;
    ASSERT_TRUE(state.on_subscribed());
    EXPECT_FALSE(state.on_tick()) << "nothing failed";
    state.read_started(true);
    state.on_read_failed();
    EXPECT_EQ(state.reads(), Reads::Failed);
    EXPECT_TRUE(state.on_tick());
    state.read_started(false);  // no link: still failed, the next tick tries again
    EXPECT_TRUE(state.on_tick());
    state.read_started(true);
    EXPECT_FALSE(state.on_tick()) << "one read in flight at most";
}

TEST(FeedState, ARefusalStopsTheReadsAndKeepsWhetherTheHistoryWasRead) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    FeedState loading;
    ASSERT_TRUE(loading.on_subscribed());
    loading.on_refused(until);
    EXPECT_TRUE(loading.refused());
    EXPECT_EQ(loading.refused_until(), until);
    EXPECT_FALSE(loading.ready());
    EXPECT_FALSE(loading.on_announced());

    FeedState ready;
    ASSERT_TRUE(ready.on_subscribed());
    ready.read_started(true);
    EXPECT_FALSE(ready.on_page(true));
    ready.on_refused(until);
    EXPECT_TRUE(ready.refused());
    EXPECT_TRUE(ready.ready());
    EXPECT_FALSE(ready.on_subscribed());
}

TEST(FeedState, AReadInFlightWhenTheRefusalCameStillCompletesTheHistory) {
    FeedState state;
    ASSERT_TRUE(state.on_subscribed());
    state.read_started(true);
    state.on_refused(std::chrono::steady_clock::now());
    EXPECT_FALSE(state.on_page(true));
    EXPECT_TRUE(state.ready());
    EXPECT_TRUE(state.refused());
}

}  // namespace
}  // namespace bscd
