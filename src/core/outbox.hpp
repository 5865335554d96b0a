#pragma once
// The ordered, bounded queue of accepted codes on their way to Redis. Pure
// bookkeeping (no I/O), so that "never lose, never reorder, never duplicate"
// is decided in one small unit-tested place:
//
//   push() ─► [ sent, awaiting confirmation | unsent ] ─► confirm()
//                         ▲ resend_all() when the link drops
//
// Entries leave only when Redis confirmed them, oldest first.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/entry_id.hpp"
#include "core/status_code.hpp"

namespace bscd {

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
    // the capacity: it was answered OK, so it is never refused now.
    void restore(const Delivery& delivery) { entries_.push_back(delivery); }

    // Up to `max` of the oldest unsent entries, now counted as sent.
    std::vector<Delivery> next_batch(std::size_t max);

    // Redis confirmed the oldest `count` sent entries. Precondition:
    // count <= in_flight().
    void confirm(std::size_t count);

    // The link was lost: nothing sent is confirmed, so everything still held
    // goes again, in the same order.
    void resend_all() { sent_ = 0; }

    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] bool full() const { return entries_.size() >= capacity_; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    [[nodiscard]] std::size_t in_flight() const { return sent_; }
    [[nodiscard]] std::size_t unsent() const { return entries_.size() - sent_; }
    // Every entry still held, oldest first (for the shutdown report).
    [[nodiscard]] const std::deque<Delivery>& entries() const { return entries_; }

private:
    std::size_t capacity_;
    std::deque<Delivery> entries_;
    std::size_t sent_ = 0;  // entries_[0, sent_) are written, awaiting confirmation
};

}  // namespace bscd
