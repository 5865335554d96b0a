#include "gateway/viewer.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace bscd {

std::chrono::milliseconds placement_timeout(std::chrono::milliseconds heartbeat) {
    return std::max<std::chrono::milliseconds>(heartbeat, std::chrono::seconds(5));
}

Viewer::Viewer(std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
               std::size_t queue_limit)
    : feed_(std::move(feed)), after_(after), queue_limit_(queue_limit) {
    // From the start, so that a viewer that never gets going (a failed
    // WebSocket handshake) still leaves the feed idle when it goes.
    feed_->attach(*this);
}

Viewer::~Viewer() {
    feed_->detach(*this);
}

void Viewer::begin() {
    if (feed_->ready() || feed_->refused()) {
        on_feed_changed();
    }
}

bool Viewer::placed() {
    if (!placed_ && feed_->ready()) {
        placed_ = true;
        position_ = after_ ? feed_->position_after(*after_) : feed_->begin();
        live_from_ = feed_->end();
    }
    return placed_;
}

std::vector<std::shared_ptr<const FeedEvent>> Viewer::take() {
    std::vector<std::shared_ptr<const FeedEvent>> events;
    // Events the feed dropped from memory (it keeps ProjectFeed::max_events)
    // are skipped: a viewer that far behind has missed them.
    position_ = std::max(position_, feed_->begin());
    events.reserve(feed_->end() - position_);
    while (position_ < feed_->end()) {
        events.push_back(feed_->at(position_++));
    }
    // Caught up: the estimate as it stands now, once per change.
    if (estimate_seen_ != feed_->estimate_version() && feed_->estimate_message()) {
        estimate_seen_ = feed_->estimate_version();
        events.push_back(feed_->estimate_message());
    }
    return events;
}

std::string Viewer::slowness() const {
    return fmt::format("cannot keep up: more than {} live events behind", queue_limit_);
}

bool Viewer::too_slow() const {
    const std::uint64_t from = std::max(position_, live_from_);
    return feed_->end() > from && feed_->end() - from > queue_limit_;
}

}  // namespace bscd
