#include "core/rate_limiter.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

const Clock::time_point t0{};  // the tests' own clock

TEST(RateLimiter, ServesTheBurstThenRefusesWithTheWait) {
    RateLimiter limiter(2, 3, 100);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(limiter.refuse("a", t0), std::nullopt) << i;
    }
    EXPECT_EQ(limiter.refuse("a", t0), std::optional(1s));
    // Refusals take nothing: half a second later (2 a second) one more.
    EXPECT_EQ(limiter.refuse("a", t0 + 450ms), std::optional(1s));
    EXPECT_EQ(limiter.refuse("a", t0 + 550ms), std::nullopt);
    EXPECT_EQ(limiter.refuse("a", t0 + 550ms), std::optional(1s));
}

TEST(RateLimiter, ClientsAreCountedApart) {
    RateLimiter limiter(1, 1, 100);
    EXPECT_EQ(limiter.refuse("a", t0), std::nullopt);
    EXPECT_NE(limiter.refuse("a", t0), std::nullopt);
    EXPECT_EQ(limiter.refuse("b", t0), std::nullopt);
    EXPECT_EQ(limiter.clients(), 2U);
}

TEST(RateLimiter, RefillsUpToTheBurstOnly) {
    RateLimiter limiter(10, 5, 100);
    EXPECT_EQ(limiter.refuse("a", t0), std::nullopt);
    // An hour idle still gives 5 at once, not 36,000.
    int served = 0;
    while (!limiter.refuse("a", t0 + 1h)) {
        ++served;
    }
    EXPECT_EQ(served, 5);
}

TEST(RateLimiter, RetryAfterIsWholeSecondsRoundedUp) {
    RateLimiter slow(0.25, 1, 100);  // one request every 4 s
    EXPECT_EQ(slow.refuse("a", t0), std::nullopt);
    EXPECT_EQ(slow.refuse("a", t0), std::optional(4s));
    EXPECT_EQ(slow.refuse("a", t0 + 1500ms), std::optional(3s));
    EXPECT_EQ(slow.refuse("a", t0 + 4s), std::nullopt);
}

TEST(RateLimiter, AClockGoingBackTakesNothing) {
    RateLimiter limiter(1, 1, 100);
    EXPECT_EQ(limiter.refuse("a", t0 + 10s), std::nullopt);
    EXPECT_NE(limiter.refuse("a", t0), std::nullopt);
    EXPECT_EQ(limiter.refuse("a", t0 + 11s), std::nullopt);
}

TEST(RateLimiter, AFloodOfClientsStaysWithinTheTableForgettingTheOldest) {
    RateLimiter limiter(1, 1, 3);
    EXPECT_EQ(limiter.refuse("a", t0), std::nullopt);
    EXPECT_EQ(limiter.refuse("b", t0), std::nullopt);
    EXPECT_EQ(limiter.refuse("c", t0), std::nullopt);
    EXPECT_NE(limiter.refuse("a", t0), std::nullopt);  // a is now the most recent
    for (int i = 0; i < 10'000; ++i) {
        (void)limiter.refuse("flood-" + std::to_string(i), t0);
        ASSERT_LE(limiter.clients(), 3U);
    }
    // a was forgotten by the flood: it starts afresh (the limit errs towards serving).
    EXPECT_EQ(limiter.refuse("a", t0), std::nullopt);

    RateLimiter recent(1, 1, 2);
    EXPECT_EQ(recent.refuse("a", t0), std::nullopt);
    EXPECT_EQ(recent.refuse("b", t0), std::nullopt);
    EXPECT_NE(recent.refuse("a", t0), std::nullopt);  // a seen after b
    EXPECT_EQ(recent.refuse("c", t0), std::nullopt);  // b, the oldest, goes
    EXPECT_NE(recent.refuse("a", t0), std::nullopt);  // a is still counted
    EXPECT_EQ(recent.clients(), 2U);
}

}  // namespace
}  // namespace bscd
