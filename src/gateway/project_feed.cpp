#include "gateway/project_feed.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/project.hpp"
#include "core/unix_ms.hpp"

namespace bscd {

ProjectFeed::ProjectFeed(std::string project, const Catalog& catalog, HistoryReader& reader,
                         const EstimateRules& rules, HistoryCounters& counters)
    : project_(std::move(project)),
      channel_(channel_for_project(project_)),
      reader_(std::make_shared<TimelineReader>(project_, catalog, reader, counters)),
      estimate_(std::make_shared<ProjectEstimate>(project_, catalog, reader, rules)) {}

void ProjectFeed::on_subscribed() {
    read_if(state_.on_subscribed());
}

void ProjectFeed::on_message() {
    read_if(state_.on_announced());
}

void ProjectFeed::on_reader_ready() {
    read_if(state_.on_announced());  // a read may have been lost with the old link
}

void ProjectFeed::on_tick() {
    read_if(state_.on_tick());  // Redis answered with an error or a malformed entry last time
    if (ready() && !estimate_->reading() && estimate_->due(unix_ms_now())) {
        estimate_->update(timeline(), unix_ms_now());
        notify();
    }
}

void ProjectFeed::on_learnt() {
    if (ready()) {
        estimate_->update(timeline(), unix_ms_now());
        notify();
    }
}

std::string ProjectFeed::state_json() const {
    const Estimate estimate = estimate_->at(timeline(), unix_ms_now());
    return timeline().state_json(estimate_->start(), &estimate);
}

void ProjectFeed::on_refused(std::chrono::steady_clock::time_point until) {
    state_.on_refused(until);
    notify();
}

void ProjectFeed::read_if(bool wanted) {
    if (!wanted) {
        return;
    }
    // The build's start and profile: bscd may start after the first viewer.
    estimate_->learn([weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->on_learnt();
        }
    });
    state_.read_started(
        reader_->read([weak = weak_from_this()](std::optional<TimelineReader::Page> page) {
            if (auto self = weak.lock()) {  // the feed may have closed meanwhile
                self->on_page(std::move(page));
            }
        }));
    // No link: on_reader_ready() reads again.
}

void ProjectFeed::on_page(std::optional<TimelineReader::Page> page) {
    if (!page) {
        state_.on_read_failed();  // the gateway's next tick (or the reader's return) reads again
        return;
    }
    const bool was_ready = ready();
    const bool read_more = state_.on_page(!page->more);
    const std::uint64_t before = end();
    for (auto& event : page->events) {
        events_.push_back(std::move(event));
        if (events_.size() > max_events) {
            dropped_through_ = events_.front()->id;
            events_.pop_front();
            ++first_;
        }
    }
    // Ready once the whole history is in: viewers are placed against it.
    if (ready() && (!was_ready || end() != before)) {
        // While the profile is being read, its estimate waits for it
        // (on_learnt): a first viewer is never told "first build of this
        // kind" a moment before the learnt estimate.
        if (!estimate_->reading()) {
            estimate_->update(timeline(), unix_ms_now());
        }
        notify();
    }
    read_if(read_more);
}

void ProjectFeed::notify() {
    // Followers never detach from inside on_feed_changed(), so the list
    // stays as it is while it is walked.
    for (const auto& follower : followers_) {
        follower->on_feed_changed(*this);
    }
}

void ProjectFeed::attach(const std::shared_ptr<FeedFollower>& follower) {
    followers_.push_back(follower);
    if (ready() || refused()) {
        follower->on_feed_changed(*this);
    }
}

void ProjectFeed::detach(const FeedFollower& follower) {
    std::erase_if(followers_, [&](const auto& kept) { return kept.get() == &follower; });
    if (followers_.empty() && on_idle_) {
        on_idle_();
    }
}

const std::shared_ptr<const FeedEvent>& ProjectFeed::at(std::uint64_t position) const {
    return events_.at(position - first_);
}

}  // namespace bscd
