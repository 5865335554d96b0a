#include "core/outbox.hpp"

#include <algorithm>
#include <cstddef>

namespace bscd {

bool Outbox::push(const Delivery& delivery) {
    if (full()) {
        return false;
    }
    entries_.push_back(delivery);
    return true;
}

std::vector<Delivery> Outbox::next_batch(std::size_t max) {
    const std::size_t count = std::min(max, unsent());
    const auto first = entries_.begin() + static_cast<std::ptrdiff_t>(sent_);
    std::vector<Delivery> batch(first, first + static_cast<std::ptrdiff_t>(count));
    sent_ += count;
    return batch;
}

void Outbox::confirm(std::size_t count) {
    // Never drop an entry that was not sent: a count above in_flight() (a
    // caller's bug) confirms only what is in flight.
    count = std::min(count, sent_);
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(count));
    sent_ -= count;
    possibly_written_ -= std::min(possibly_written_, count);
}

std::vector<Delivery> Outbox::restamp(std::size_t from, EntryId above, EntryIdSequence& ids,
                                      std::uint64_t now_ms) {
    std::vector<Delivery> moved;
    if (from >= entries_.size()) {
        return moved;
    }
    // Above the newest held too, whatever `ids` knows: the order must stay.
    ids.continue_after(std::max(above, entries_.back().id));
    moved.reserve(entries_.size() - from);
    for (auto it = entries_.begin() + static_cast<std::ptrdiff_t>(from); it != entries_.end();
         ++it) {
        it->id = ids.next(now_ms);
        moved.push_back(*it);
    }
    // Under their new ids they were never sent: nothing of them can be in Redis.
    possibly_written_ = std::min(possibly_written_, from);
    return moved;
}

std::optional<Delivery> Outbox::last_in_flight() const {
    if (sent_ == 0) {
        return std::nullopt;
    }
    return entries_[sent_ - 1];
}

std::optional<EntryId> Outbox::possibly_written_up_to() const {
    if (possibly_written_ == 0) {
        return std::nullopt;
    }
    return entries_[possibly_written_ - 1].id;
}

}  // namespace bscd
