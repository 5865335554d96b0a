#pragma once
// The ordered, bounded queue of accepted codes on their way to Redis. Pure
// bookkeeping (no I/O), so that "never lose, never reorder, never duplicate"
// is decided in one small unit-tested place:
//
//   push() ─► [ sent, awaiting confirmation | unsent ] ─► confirm()
//                         ▲ resend_all() when the link drops
//                         ▲ restamp() when another writer took the ids ahead
//
// Entries leave only when Redis confirmed them, oldest first.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/entry_id.hpp"
#include "core/status_code.hpp"

namespace bscd {

// A code on its way to Redis. Stored, it is a HistoryEntry
// (core/history_entry.hpp says why these stay two types).
struct Delivery {
    EntryId id;                        // history entry id, unique per channel
    const StatusCode* code = nullptr;  // catalog entry (outlives the outbox)
    std::int64_t accepted_ms = 0;      // Unix ms when bscd accepted it
};

class Outbox {
public:
    explicit Outbox(std::size_t capacity) : capacity_(capacity) {}

    // Appends an accepted code; false (and nothing changes) when the outbox
    // already holds `capacity` unconfirmed entries.
    bool push(const Delivery& delivery);

    // Appends a code accepted before a restart (from the spool), whatever
    // the capacity: it was answered OK, so it is never refused now. Only
    // before any push(): the codes that may be in Redis stay a prefix.
    void restore(const Delivery& delivery) {
        entries_.push_back(delivery);
        possibly_written_ = entries_.size();  // the crashed bscd may have written it
    }

    // Up to `max` of the oldest unsent entries, now counted as sent.
    std::vector<Delivery> next_batch(std::size_t max);

    // Redis confirmed the oldest `count` sent entries. Precondition:
    // count <= in_flight().
    void confirm(std::size_t count);

    // The link was lost: nothing sent is confirmed, so everything still held
    // goes again, in the same order.
    void resend_all() {
        possibly_written_ = std::max(possibly_written_, sent_);
        sent_ = 0;
    }

    // The history holds entries bscd did not write at or above the ids of
    // the entries from `from` on: each of those gets a new id from `ids`,
    // above `above` and above every id `ids` handed out, in the same order.
    // Returns them with their new ids. Ids are the only change: the entries
    // stay where they are, sent or not (the caller drops the link, and so
    // sends them all again).
    std::vector<Delivery> restamp(std::size_t from, EntryId above, EntryIdSequence& ids,
                                  std::uint64_t now_ms);

    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] bool full() const { return entries_.size() >= capacity_; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    [[nodiscard]] std::size_t in_flight() const { return sent_; }
    [[nodiscard]] std::size_t unsent() const { return entries_.size() - sent_; }
    // Every entry still held, oldest first (for the shutdown report).
    [[nodiscard]] const std::deque<Delivery>& entries() const { return entries_; }

    // The newest sent, unconfirmed entry: the next batch goes out behind
    // it, and must not be written if it was not. nullopt when none.
    [[nodiscard]] std::optional<Delivery> last_in_flight() const;
    // The id of the newest entry that may already be in Redis although never
    // confirmed (sent on a lost link, or restored from a spool), or nullopt.
    // Such an entry may have been trimmed from the history since; one never
    // sent cannot have been.
    [[nodiscard]] std::optional<EntryId> possibly_written_up_to() const;

private:
    std::size_t capacity_;
    std::deque<Delivery> entries_;
    std::size_t sent_ = 0;  // entries_[0, sent_) are written, awaiting confirmation
    // entries_[0, possibly_written_) may be in Redis from an earlier attempt.
    std::size_t possibly_written_ = 0;
};

}  // namespace bscd
