#include "gateway/loop_feed.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "core/project.hpp"
#include "core/unix_ms.hpp"
#include "gateway/viewer.hpp"
#include "gateway/viewer_loop.hpp"

namespace bscd {

LoopFeed::LoopFeed(std::string project, ViewerLoop& loop)
    : project_(std::move(project)), channel_(channel_for_project(project_)), loop_(loop) {}

void LoopFeed::on_feed_changed(const ProjectFeed& feed) {
    Update update;
    update.begin = feed.begin();
    update.dropped_through = feed.dropped_through();
    update.first = std::max(sent_end_, feed.begin());
    update.events.reserve(feed.end() - update.first);
    for (std::uint64_t position = update.first; position < feed.end(); ++position) {
        update.events.push_back(feed.at(position));
    }
    sent_end_ = feed.end();
    update.phase = phase_of(feed);
    update.estimate = feed.estimate().message();
    update.estimate_version = feed.estimate().version();
    boost::asio::post(loop_.io(),
                      [self = shared_from_this(), update = std::move(update)]() mutable {
                          self->apply(std::move(update));
                      });
}

LoopFeed::Phase LoopFeed::phase_of(const ProjectFeed& feed) {
    if (feed.refused()) {
        return Refused{feed.refused_until()};
    }
    if (!feed.ready()) {
        return Waiting{};
    }
    if (feed.finished()) {
        return Finished{};
    }
    return Live{};
}

void LoopFeed::apply(Update update) {
    if (std::holds_alternative<NotPosted>(phase_) || update.first > end()) {
        // The first update, or events this loop never got went out of the
        // ProjectFeed's memory: start again from what it has.
        events_.clear();
        first_ = update.first;
    }
    for (auto& event : update.events) {
        events_.push_back(std::move(event));
    }
    while (first_ < update.begin && !events_.empty()) {
        events_.pop_front();
        ++first_;
    }
    dropped_through_ = update.dropped_through;
    phase_ = update.phase;
    estimate_ = std::move(update.estimate);
    estimate_version_ = update.estimate_version;
    // Viewers never detach from inside on_feed_changed(): they close their
    // sockets, and go when their pending operations complete.
    for (Viewer* viewer : viewers_) {
        viewer->on_feed_changed();
    }
}

void LoopFeed::attach(Viewer& viewer) {
    viewers_.insert(&viewer);
}

void LoopFeed::detach(Viewer& viewer) {
    viewers_.erase(&viewer);
    if (viewers_.empty()) {
        loop_.forget(*this);
    }
}

std::chrono::seconds LoopFeed::refusal_left() const {
    const auto* refused = std::get_if<Refused>(&phase_);
    const auto left =
        (refused != nullptr ? refused->until : std::chrono::steady_clock::time_point{}) -
        std::chrono::steady_clock::now();
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(left));
}

std::uint64_t LoopFeed::position_after(const EntryId& id) const {
    const auto it =
        std::upper_bound(events_.begin(), events_.end(), id,
                         [](const EntryId& wanted, const std::shared_ptr<const FeedEvent>& event) {
                             return wanted < event->id;
                         });
    return first_ + static_cast<std::uint64_t>(it - events_.begin());
}

const std::shared_ptr<const FeedEvent>& LoopFeed::at(std::uint64_t position) const {
    return events_.at(position - first_);
}

const std::shared_ptr<const FeedEvent>& LoopFeed::estimate_message() {
    return estimate_.at(unix_ms_now());
}

}  // namespace bscd
