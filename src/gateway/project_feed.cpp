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
    subscribed_ = true;
    read();  // what came before the subscription, or while it was down
}

void ProjectFeed::on_message() {
    read();
}

void ProjectFeed::on_reader_ready() {
    read();  // a read may have been lost with the old link
}

void ProjectFeed::on_tick() {
    if (read_failed_) {
        read();  // Redis answered with an error or a malformed entry last time
    }
    if (ready_ && !estimate_->reading() && estimate_->due(unix_ms_now())) {
        estimate_->update(timeline(), unix_ms_now());
        notify();
    }
}

void ProjectFeed::on_learnt() {
    if (ready_) {
        estimate_->update(timeline(), unix_ms_now());
        notify();
    }
}

std::string ProjectFeed::state_json() const {
    const Estimate estimate = estimate_->at(timeline(), unix_ms_now());
    return timeline().state_json(estimate_->start(), &estimate);
}

void ProjectFeed::on_refused(std::chrono::steady_clock::time_point until) {
    refused_until_ = until;
    subscribed_ = false;  // no messages will come: reading now could miss some later
    notify();
}

void ProjectFeed::read() {
    if (!subscribed_) {
        return;  // reading before the subscription could miss what comes between
    }
    if (reading_) {
        read_again_ = true;
        return;
    }
    read_again_ = false;
    // The build's start and profile: bscd may start after the first viewer.
    estimate_->learn([weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->on_learnt();
        }
    });
    reading_ = reader_->read([weak = weak_from_this()](std::optional<TimelineReader::Page> page) {
        if (auto self = weak.lock()) {  // the feed may have closed meanwhile
            self->on_page(std::move(page));
        }
    });
    // No link: on_reader_ready() reads again.
}

void ProjectFeed::on_page(std::optional<TimelineReader::Page> page) {
    reading_ = false;
    if (!page) {
        read_failed_ = true;  // the gateway's next tick (or the reader's return) reads again
        return;
    }
    read_failed_ = false;
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
    const bool complete = !page->more;
    if ((!ready_ && complete) || (ready_ && end() != before)) {
        ready_ = true;
        // While the profile is being read, its estimate waits for it
        // (on_learnt): a first viewer is never told "first build of this
        // kind" a moment before the learnt estimate.
        if (!estimate_->reading()) {
            estimate_->update(timeline(), unix_ms_now());
        }
        notify();
    }
    if (!complete || read_again_) {
        read();
    }
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
    if (ready_ || refused()) {
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
