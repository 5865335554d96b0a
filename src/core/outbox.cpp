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
}

}  // namespace bscd
