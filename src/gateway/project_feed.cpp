#include "gateway/project_feed.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/project.hpp"
#include "core/unix_ms.hpp"

namespace bscd {
namespace {

// Entries per XRANGE: a whole build's history in one read, as a rule.
constexpr std::size_t read_batch = 1000;

}  // namespace

ProjectFeed::ProjectFeed(std::string project, const Catalog& catalog, HistoryReader& reader,
                         const EstimateRules& rules, Counters& counters)
    : project_(std::move(project)),
      channel_(channel_for_project(project_)),
      history_key_(history_key(channel_)),
      reader_(reader),
      counters_(counters),
      timeline_(project_, catalog),
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
        estimate_->update(timeline_, unix_ms_now());
        notify();
    }
}

void ProjectFeed::on_learnt() {
    if (ready_) {
        estimate_->update(timeline_, unix_ms_now());
        notify();
    }
}

std::string ProjectFeed::state_json() const {
    const Estimate estimate = estimate_->at(timeline_, unix_ms_now());
    return timeline_.state_json(estimate_->start(), &estimate);
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
    reading_ = reader_.read_after(
        history_key_, last_id_, read_batch,
        [weak = weak_from_this()](std::optional<std::vector<StreamEntry>> entries) {
            if (auto self = weak.lock()) {  // the feed may have closed meanwhile
                self->on_entries(std::move(entries));
            }
        });
    if (reading_) {
        ++counters_.history_reads;
    }
    // No link: on_reader_ready() reads again.
}

void ProjectFeed::on_entries(std::optional<std::vector<StreamEntry>> entries) {
    reading_ = false;
    if (!entries) {
        read_failed_ = true;  // the gateway's next tick (or the reader's return) reads again
        return;
    }
    read_failed_ = false;
    const std::uint64_t before = end();
    for (const auto& entry : *entries) {
        append(entry);
    }
    // Ready once the whole history is in: viewers are placed against it.
    const bool complete = entries->size() < read_batch;
    if ((!ready_ && complete) || (ready_ && end() != before)) {
        ready_ = true;
        // While the profile is being read, its estimate waits for it
        // (on_learnt): a first viewer is never told "first build of this
        // kind" a moment before the learnt estimate.
        if (!estimate_->reading()) {
            estimate_->update(timeline_, unix_ms_now());
        }
        notify();
    }
    if (!complete || read_again_) {
        read();
    }
}

void ProjectFeed::append(const StreamEntry& stored) {
    last_id_ = stored.id;
    ++counters_.entries_received;
    const auto entry = parse_history_entry(stored.id, stored.fields);
    if (!entry) {
        spdlog::warn("Project {}: skipping malformed history entry {}", project_, stored.id.str());
        return;
    }
    const auto event = timeline_.add(*entry);
    if (!event) {
        return;  // after the final code, or a code this catalog lacks
    }
    events_.push_back(make_feed_event(event->id, "status", event->to_json(), event->final));
    if (events_.size() > max_events) {
        events_.pop_front();
        ++first_;
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
