#include "core/entry_id.hpp"

#include <limits>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

namespace bscd {

// Readable failure messages. In bscd itself (not the anonymous namespace) so
// that GoogleTest finds it by argument-dependent lookup.
static void PrintTo(const EntryId& id, std::ostream* os) {
    *os << id.str();
}

namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

TEST(EntryId, Str) {
    EXPECT_EQ((EntryId{1763938454570, 0}.str()), "1763938454570-0");
    EXPECT_EQ((EntryId{0, 0}.str()), "0-0");
    EXPECT_EQ((EntryId{5, 42}.str()), "5-42");
    EXPECT_EQ((EntryId{u64_max, u64_max}.str()), "18446744073709551615-18446744073709551615");
}

TEST(EntryId, ParseValid) {
    struct Case {
        const char* text;
        EntryId id;
    };
    const Case cases[] = {
        {"1763938454570-0", {1763938454570, 0}},
        {"0-0", {0, 0}},
        {"0-1", {0, 1}},
        {"5-42", {5, 42}},
        {"007-0010", {7, 10}},
        {"18446744073709551615-18446744073709551615", {u64_max, u64_max}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        const auto id = EntryId::parse(c.text);
        ASSERT_TRUE(id.has_value());
        EXPECT_EQ(*id, c.id);
    }
}

TEST(EntryId, ParseInvalid) {
    const char* const cases[] = {
        "",
        "-",
        "1763938454570",
        "1763938454570-",
        "-0",
        "1-2-3",
        "1--2",
        " 1-2",
        "1-2 ",
        "1 -2",
        "1- 2",
        "+1-2",
        "1-+2",
        "-1-2",
        "1-x",
        "a-1",
        "0x10-1",
        "1.5-0",
        "*",
        "1-*",
        "18446744073709551616-0",  // uint64 max + 1
        "0-18446744073709551616",
        "99999999999999999999999-0",
    };
    for (const char* text : cases) {
        EXPECT_EQ(EntryId::parse(text), std::nullopt) << '"' << text << '"';
    }
    EXPECT_EQ(EntryId::parse(std::string_view("1-2\0", 4)), std::nullopt);
    EXPECT_EQ(EntryId::parse(std::string_view("1\0-2", 4)), std::nullopt);
}

TEST(EntryId, RoundTrip) {
    for (const EntryId id : {EntryId{0, 0}, EntryId{1, 2}, EntryId{1763938454570, 7},
                             EntryId{u64_max, 0}, EntryId{0, u64_max}}) {
        EXPECT_EQ(EntryId::parse(id.str()), id) << id.str();
    }
}

TEST(EntryId, OrderIsMillisecondsThenSequence) {
    EXPECT_LT((EntryId{1, 0}), (EntryId{1, 1}));
    EXPECT_LT((EntryId{1, 999}), (EntryId{2, 0}));
    EXPECT_GT((EntryId{2, 0}), (EntryId{1, u64_max}));
    EXPECT_EQ((EntryId{3, 4}), (EntryId{3, 4}));
    EXPECT_NE((EntryId{3, 4}), (EntryId{4, 3}));
}

TEST(EntryIdSequence, StartsAtZeroAndNeverHandsOutZeroZero) {
    EntryIdSequence sequence;
    EXPECT_EQ(sequence.last(), (EntryId{0, 0}));
    // Redis refuses 0-0 as an entry id: even a clock at 0 gets 0-1.
    EXPECT_EQ(sequence.next(0), (EntryId{0, 1}));
}

TEST(EntryIdSequence, NewMillisecondStartsAtSequenceZero) {
    EntryIdSequence sequence;
    EXPECT_EQ(sequence.next(1000), (EntryId{1000, 0}));
    EXPECT_EQ(sequence.next(1001), (EntryId{1001, 0}));
    EXPECT_EQ(sequence.next(5000), (EntryId{5000, 0}));
    EXPECT_EQ(sequence.last(), (EntryId{5000, 0}));
}

TEST(EntryIdSequence, SameMillisecondIncrementsSequence) {
    EntryIdSequence sequence;
    EXPECT_EQ(sequence.next(1000), (EntryId{1000, 0}));
    EXPECT_EQ(sequence.next(1000), (EntryId{1000, 1}));
    EXPECT_EQ(sequence.next(1000), (EntryId{1000, 2}));
    EXPECT_EQ(sequence.next(1001), (EntryId{1001, 0}));
}

TEST(EntryIdSequence, ClockSteppingBackKeepsIncreasing) {
    EntryIdSequence sequence;
    EXPECT_EQ(sequence.next(2000), (EntryId{2000, 0}));
    EXPECT_EQ(sequence.next(1500), (EntryId{2000, 1}));
    EXPECT_EQ(sequence.next(1), (EntryId{2000, 2}));
    EXPECT_EQ(sequence.next(2000), (EntryId{2000, 3}));
    EXPECT_EQ(sequence.next(2001), (EntryId{2001, 0}));
}

TEST(EntryIdSequence, StrictlyIncreasingForAnyClock) {
    EntryIdSequence sequence;
    const std::uint64_t clock[] = {10, 10, 9, 11, 11, 11, 3, 12, 100, 50, 100, 101};
    EntryId previous = sequence.last();
    for (std::uint64_t now : clock) {
        const EntryId id = sequence.next(now);
        EXPECT_GT(id, previous) << "now " << now;
        EXPECT_EQ(sequence.last(), id);
        previous = id;
    }
}

TEST(EntryIdSequence, SequenceExhaustedMovesToNextMillisecond) {
    EntryIdSequence sequence;
    sequence.continue_after(EntryId{7, u64_max});
    EXPECT_EQ(sequence.next(7), (EntryId{8, 0}));
    EXPECT_EQ(sequence.next(7), (EntryId{8, 1}));
}

TEST(EntryIdSequence, ContinueAfterHistory) {
    EntryIdSequence sequence;
    sequence.continue_after(EntryId{5000, 3});
    EXPECT_EQ(sequence.last(), (EntryId{5000, 3}));
    EXPECT_EQ(sequence.next(4000), (EntryId{5000, 4}));  // restarted with an older clock
    EXPECT_EQ(sequence.next(5000), (EntryId{5000, 5}));
    EXPECT_EQ(sequence.next(6000), (EntryId{6000, 0}));
}

TEST(EntryIdSequence, ContinueAfterAnOlderIdChangesNothing) {
    EntryIdSequence sequence;
    EXPECT_EQ(sequence.next(9000), (EntryId{9000, 0}));
    sequence.continue_after(EntryId{100, 0});
    EXPECT_EQ(sequence.last(), (EntryId{9000, 0}));
    EXPECT_EQ(sequence.next(9000), (EntryId{9000, 1}));
}

TEST(EntryIdSequence, ContinueAfterTheSameIdStillMovesPastIt) {
    EntryIdSequence sequence;
    sequence.continue_after(EntryId{42, 0});
    EXPECT_EQ(sequence.next(42), (EntryId{42, 1}));
}

}  // namespace
}  // namespace bscd
