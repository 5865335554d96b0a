#include "core/outbox.hpp"

#include <cstdint>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

#include "core/catalog.hpp"

namespace bscd {
namespace {

// Delivery number n: id {1000 + n, 0}, the builtin code at position n % 16.
Delivery delivery(std::uint64_t n) {
    const auto codes = Catalog::builtin().codes();
    return Delivery{EntryId{1000 + n, 0}, &codes[n % codes.size()],
                    static_cast<std::int64_t>(1'700'000'000'000 + n)};
}

// The delivery numbers of a batch or of the held entries (see delivery()).
template <typename Range>
std::vector<std::uint64_t> numbers(const Range& range) {
    std::vector<std::uint64_t> out;
    out.reserve(static_cast<std::size_t>(std::distance(std::begin(range), std::end(range))));
    for (const Delivery& d : range) {
        out.push_back(d.id.ms - 1000);
    }
    return out;
}

using N = std::vector<std::uint64_t>;

Outbox filled(std::size_t capacity, std::uint64_t count) {
    Outbox outbox(capacity);
    for (std::uint64_t n = 0; n < count; ++n) {
        EXPECT_TRUE(outbox.push(delivery(n)));
    }
    return outbox;
}

TEST(Outbox, StartsEmpty) {
    Outbox outbox(4);
    EXPECT_TRUE(outbox.empty());
    EXPECT_FALSE(outbox.full());
    EXPECT_EQ(outbox.size(), 0u);
    EXPECT_EQ(outbox.capacity(), 4u);
    EXPECT_EQ(outbox.in_flight(), 0u);
    EXPECT_EQ(outbox.unsent(), 0u);
    EXPECT_TRUE(outbox.next_batch(10).empty());
}

TEST(Outbox, PushKeepsEverythingOfADelivery) {
    Outbox outbox(4);
    const Delivery d = delivery(13);
    ASSERT_TRUE(outbox.push(d));
    ASSERT_EQ(outbox.entries().size(), 1u);
    EXPECT_EQ(outbox.entries()[0].id, d.id);
    EXPECT_EQ(outbox.entries()[0].code, d.code);
    EXPECT_EQ(outbox.entries()[0].code->value, 82);
    EXPECT_EQ(outbox.entries()[0].accepted_ms, d.accepted_ms);
}

TEST(Outbox, RefusesBeyondCapacityAndChangesNothing) {
    Outbox outbox = filled(3, 3);
    EXPECT_TRUE(outbox.full());
    EXPECT_FALSE(outbox.push(delivery(3)));
    EXPECT_EQ(outbox.size(), 3u);
    EXPECT_EQ(numbers(outbox.entries()), (N{0, 1, 2}));
    EXPECT_EQ(outbox.unsent(), 3u);
}

TEST(Outbox, SentButUnconfirmedEntriesStillCountAgainstCapacity) {
    Outbox outbox = filled(3, 3);
    EXPECT_EQ(outbox.next_batch(3).size(), 3u);
    EXPECT_FALSE(outbox.push(delivery(3)));
    outbox.confirm(1);
    EXPECT_FALSE(outbox.full());
    EXPECT_TRUE(outbox.push(delivery(3)));
    EXPECT_TRUE(outbox.full());
    EXPECT_EQ(numbers(outbox.entries()), (N{1, 2, 3}));
}

TEST(Outbox, ZeroCapacityRefusesEverything) {
    Outbox outbox(0);
    EXPECT_TRUE(outbox.full());
    EXPECT_FALSE(outbox.push(delivery(0)));
    EXPECT_TRUE(outbox.empty());
}

TEST(Outbox, BatchesAreOldestFirstAndDoNotOverlap) {
    Outbox outbox = filled(10, 7);
    EXPECT_EQ(numbers(outbox.next_batch(3)), (N{0, 1, 2}));
    EXPECT_EQ(outbox.in_flight(), 3u);
    EXPECT_EQ(outbox.unsent(), 4u);
    EXPECT_EQ(numbers(outbox.next_batch(3)), (N{3, 4, 5}));
    EXPECT_EQ(numbers(outbox.next_batch(3)), (N{6}));
    EXPECT_TRUE(outbox.next_batch(3).empty());
    EXPECT_EQ(outbox.in_flight(), 7u);
    EXPECT_EQ(outbox.unsent(), 0u);
    EXPECT_EQ(outbox.size(), 7u) << "nothing leaves before confirmation";
}

TEST(Outbox, BatchOfZeroSendsNothing) {
    Outbox outbox = filled(4, 2);
    EXPECT_TRUE(outbox.next_batch(0).empty());
    EXPECT_EQ(outbox.in_flight(), 0u);
    EXPECT_EQ(outbox.unsent(), 2u);
}

TEST(Outbox, ConfirmRemovesTheOldest) {
    Outbox outbox = filled(10, 5);
    outbox.next_batch(4);
    outbox.confirm(2);
    EXPECT_EQ(numbers(outbox.entries()), (N{2, 3, 4}));
    EXPECT_EQ(outbox.in_flight(), 2u);
    EXPECT_EQ(outbox.unsent(), 1u);
    outbox.confirm(2);
    EXPECT_EQ(numbers(outbox.entries()), (N{4}));
    EXPECT_EQ(outbox.in_flight(), 0u);
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{4}));
    outbox.confirm(1);
    EXPECT_TRUE(outbox.empty());
}

TEST(Outbox, ConfirmZeroChangesNothing) {
    Outbox outbox = filled(10, 3);
    outbox.next_batch(2);
    outbox.confirm(0);
    EXPECT_EQ(outbox.size(), 3u);
    EXPECT_EQ(outbox.in_flight(), 2u);
}

TEST(Outbox, ConfirmingMoreThanInFlightNeverDropsUnsentEntries) {
    Outbox outbox = filled(10, 5);
    outbox.next_batch(2);
    outbox.confirm(4);  // a caller's bug; must not lose codes 2..4
    EXPECT_EQ(numbers(outbox.entries()), (N{2, 3, 4}));
    EXPECT_EQ(outbox.in_flight(), 0u);
    EXPECT_EQ(outbox.unsent(), 3u);
}

TEST(Outbox, ResendAllSendsEverythingHeldAgainInTheSameOrder) {
    Outbox outbox = filled(10, 6);
    EXPECT_EQ(numbers(outbox.next_batch(2)), (N{0, 1}));
    EXPECT_EQ(numbers(outbox.next_batch(2)), (N{2, 3}));
    outbox.confirm(1);
    outbox.resend_all();  // link lost: 1..3 were written but not confirmed
    EXPECT_EQ(outbox.in_flight(), 0u);
    EXPECT_EQ(outbox.unsent(), 5u);
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{1, 2, 3, 4, 5}));
}

TEST(Outbox, ResendAllWithNothingSentChangesNothing) {
    Outbox outbox = filled(10, 3);
    outbox.resend_all();
    EXPECT_EQ(outbox.unsent(), 3u);
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{0, 1, 2}));
}

TEST(Outbox, PushWhileInFlightGoesAfterTheSentOnes) {
    Outbox outbox = filled(10, 2);
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{0, 1}));
    outbox.push(delivery(2));
    EXPECT_EQ(outbox.in_flight(), 2u);
    EXPECT_EQ(outbox.unsent(), 1u);
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{2}));
    outbox.resend_all();
    EXPECT_EQ(numbers(outbox.next_batch(10)), (N{0, 1, 2}));
}

TEST(Outbox, LastInFlightIsTheNewestSentEntry) {
    Outbox outbox = filled(10, 5);
    EXPECT_FALSE(outbox.last_in_flight().has_value());
    outbox.next_batch(2);
    ASSERT_TRUE(outbox.last_in_flight().has_value());
    EXPECT_EQ(outbox.last_in_flight()->id, delivery(1).id);
    // All of it: the history script checks that very code is at that id.
    EXPECT_EQ(outbox.last_in_flight()->code, delivery(1).code);
    EXPECT_EQ(outbox.last_in_flight()->accepted_ms, delivery(1).accepted_ms);
    outbox.next_batch(2);
    EXPECT_EQ(outbox.last_in_flight()->id, delivery(3).id);
    outbox.confirm(4);
    EXPECT_FALSE(outbox.last_in_flight().has_value());
    outbox.next_batch(1);
    outbox.resend_all();
    EXPECT_FALSE(outbox.last_in_flight().has_value());
}

TEST(Outbox, OnlyEntriesSentOnALostLinkMayBeWrittenAlready) {
    Outbox outbox = filled(10, 6);
    EXPECT_FALSE(outbox.possibly_written_up_to().has_value());
    outbox.next_batch(3);
    // Sent, but the link is up: its replies will tell.
    EXPECT_FALSE(outbox.possibly_written_up_to().has_value());
    outbox.resend_all();
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(2).id);
    // Sending again on the new link, and losing it before all were sent
    // again, does not forget what the first link may have written.
    outbox.next_batch(1);
    outbox.resend_all();
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(2).id);
    outbox.next_batch(5);
    outbox.resend_all();
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(4).id);
    outbox.next_batch(2);
    outbox.confirm(2);
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(4).id);
    outbox.next_batch(3);
    outbox.confirm(3);
    EXPECT_FALSE(outbox.possibly_written_up_to().has_value());
    EXPECT_EQ(numbers(outbox.entries()), (N{5}));
}

TEST(Outbox, RestoredEntriesMayBeWrittenAlready) {
    Outbox outbox(10);
    outbox.restore(delivery(0));
    outbox.restore(delivery(1));
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(1).id);
    outbox.push(delivery(2));
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(1).id);
}

TEST(Outbox, RestampGivesNewIdsAboveTheIntruderInTheSameOrder) {
    Outbox outbox = filled(10, 5);
    EntryIdSequence ids;
    ids.continue_after(delivery(4).id);
    outbox.next_batch(2);
    outbox.confirm(1);
    // Another writer's entry far ahead of bscd's clock.
    const EntryId intruder{9'999'999'999'999, 0};
    const auto moved = outbox.restamp(0, intruder, ids, 1'700'000'000'000);
    ASSERT_EQ(moved.size(), 4u);
    for (std::size_t i = 0; i < moved.size(); ++i) {
        EXPECT_EQ(moved[i].id, (EntryId{9'999'999'999'999, i + 1}));
        EXPECT_EQ(outbox.entries()[i].id, moved[i].id);
        // Everything else of the code stays, the time it was accepted too.
        EXPECT_EQ(moved[i].code, delivery(i + 1).code);
        EXPECT_EQ(moved[i].accepted_ms, delivery(i + 1).accepted_ms);
    }
    // Codes accepted afterwards come after the moved ones.
    EXPECT_EQ(ids.next(1'700'000'000'001), (EntryId{9'999'999'999'999, 5}));
    EXPECT_EQ(outbox.size(), 4u);
}

TEST(Outbox, RestampAboveIdsHandedOutWhenTheIntruderIsBelowThem) {
    // The intruder sits between bscd's ids: the moved entries go above the
    // newest id bscd handed out (its later codes must stay after them), and
    // at the clock's time when that is higher still.
    Outbox outbox = filled(10, 4);
    EntryIdSequence ids;
    ids.continue_after(delivery(3).id);  // {1003, 0}
    const auto moved = outbox.restamp(1, EntryId{1001, 5}, ids, 1002);
    ASSERT_EQ(moved.size(), 3u);
    EXPECT_EQ(moved[0].id, (EntryId{1003, 1}));
    EXPECT_EQ(moved[1].id, (EntryId{1003, 2}));
    EXPECT_EQ(moved[2].id, (EntryId{1003, 3}));
    EXPECT_EQ(outbox.entries()[0].id, delivery(0).id) << "entries before `from` keep their ids";

    const auto later = outbox.restamp(3, EntryId{1003, 3}, ids, 5000);
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].id, (EntryId{5000, 0}));
}

TEST(Outbox, RestampGoesAboveTheHeldEntriesWhateverTheSequenceKnows) {
    Outbox outbox = filled(10, 3);
    EntryIdSequence ids;  // knows nothing: the entries' own ids still bound it
    const auto moved = outbox.restamp(0, EntryId{1000, 0}, ids, 0);
    ASSERT_EQ(moved.size(), 3u);
    EXPECT_EQ(moved[0].id, (EntryId{1002, 1}));
    EXPECT_EQ(moved[2].id, (EntryId{1002, 3}));
}

TEST(Outbox, RestampedEntriesWereNeverWrittenUnderTheirNewIds) {
    Outbox outbox = filled(10, 4);
    outbox.next_batch(4);
    outbox.resend_all();
    ASSERT_EQ(outbox.possibly_written_up_to(), delivery(3).id);
    EntryIdSequence ids;
    outbox.restamp(2, EntryId{2000, 0}, ids, 0);
    EXPECT_EQ(outbox.possibly_written_up_to(), delivery(1).id);
    outbox.restamp(0, EntryId{3000, 0}, ids, 0);
    EXPECT_FALSE(outbox.possibly_written_up_to().has_value());
}

TEST(Outbox, RestampKeepsWhatIsSentAndWhatIsNot) {
    Outbox outbox = filled(10, 5);
    outbox.next_batch(3);
    EntryIdSequence ids;
    outbox.restamp(0, EntryId{2000, 0}, ids, 0);
    EXPECT_EQ(outbox.in_flight(), 3u);
    EXPECT_EQ(outbox.unsent(), 2u);
    outbox.resend_all();  // the publisher drops the link: all go again
    const auto batch = outbox.next_batch(10);
    ASSERT_EQ(batch.size(), 5u);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ(batch[i].id, (EntryId{2000, i + 1}));
        EXPECT_EQ(batch[i].code, delivery(i).code);
    }
}

TEST(Outbox, RestampFromBeyondTheEndMovesNothing) {
    Outbox outbox = filled(10, 2);
    EntryIdSequence ids;
    EXPECT_TRUE(outbox.restamp(2, EntryId{2000, 0}, ids, 0).empty());
    EXPECT_EQ(numbers(outbox.entries()), (N{0, 1}));
    EXPECT_EQ(ids.last(), EntryId{}) << "nothing handed out";
    Outbox empty(4);
    EXPECT_TRUE(empty.restamp(0, EntryId{2000, 0}, ids, 0).empty());
}

// A long outage, a reconnect, retries and confirmations in arbitrary steps:
// Redis sees every code, in order, each confirmed exactly once.
TEST(Outbox, NeverLosesReordersOrDuplicatesConfirmedEntries) {
    Outbox outbox(8);
    std::vector<std::uint64_t> confirmed;
    std::uint64_t next = 0;
    std::size_t refused = 0;
    std::vector<Delivery> in_flight;  // what "Redis" got and will confirm
    for (int step = 0; step < 500; ++step) {
        switch (step % 7) {
            case 0:
            case 1:
            case 2:
                if (outbox.push(delivery(next))) {
                    ++next;
                } else {
                    ++refused;
                    EXPECT_TRUE(outbox.full());
                }
                break;
            case 3: {
                auto batch = outbox.next_batch(static_cast<std::size_t>(step % 3 + 1));
                in_flight.insert(in_flight.end(), batch.begin(), batch.end());
                break;
            }
            case 4: {
                const std::size_t n = std::min<std::size_t>(in_flight.size(), step % 2 + 1);
                ASSERT_EQ(in_flight.size(), outbox.in_flight());
                for (std::size_t i = 0; i < n; ++i) {
                    EXPECT_EQ(in_flight[i].id, outbox.entries()[i].id);
                    confirmed.push_back(in_flight[i].id.ms - 1000);
                }
                in_flight.erase(in_flight.begin(), in_flight.begin() + static_cast<long>(n));
                outbox.confirm(n);
                break;
            }
            case 5:
                if (step % 5 == 0) {
                    outbox.resend_all();
                    in_flight.clear();
                }
                break;
            default:
                EXPECT_EQ(outbox.size(), outbox.in_flight() + outbox.unsent());
                EXPECT_LE(outbox.size(), outbox.capacity());
                break;
        }
    }
    // Drain.
    outbox.resend_all();
    for (const Delivery& d : outbox.next_batch(outbox.size())) {
        confirmed.push_back(d.id.ms - 1000);
    }
    outbox.confirm(outbox.in_flight());
    EXPECT_TRUE(outbox.empty());

    ASSERT_EQ(confirmed.size(), next);
    for (std::uint64_t i = 0; i < next; ++i) {
        ASSERT_EQ(confirmed[i], i);
    }
    EXPECT_GT(refused, 0u) << "the scenario should have filled the outbox";
}

}  // namespace
}  // namespace bscd
