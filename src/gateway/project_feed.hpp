#pragma once
// One project's events, as the gateway relays them: read from the history
// stream once, kept in memory once, and shared by every viewer of the
// project, each of which only holds a position in them (Viewer). The live
// channel's messages only say "something new": the feed then reads the
// stream after the last id it has (TimelineReader), so events arrive with
// their ids, in order, exactly once, also across Redis reconnections.
//
// Memory is bounded whatever a producer sends: the timeline keeps one time
// per code, and the feed the newest max_events events. A viewer that needs
// older ones has them read again from Redis (Backfill, up to
// dropped_through()).
//
// The feed lives on the gateway's Redis loop. Its followers are the event
// loops that have viewers of the project (each through its LoopFeed, which
// gets the new events posted) and the operator's board.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/build_event.hpp"
#include "core/catalog.hpp"
#include "core/entry_id.hpp"
#include "core/estimate.hpp"
#include "gateway/feed_event.hpp"
#include "gateway/feed_state.hpp"
#include "gateway/project_estimate.hpp"
#include "gateway/timeline_reader.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

class ProjectFeed;

// Told, on the feed's loop, when the feed becomes ready, has new events, a
// new estimate, or was refused. Must not detach itself synchronously.
class FeedFollower {
public:
    FeedFollower() = default;
    FeedFollower(const FeedFollower&) = delete;
    FeedFollower& operator=(const FeedFollower&) = delete;
    virtual ~FeedFollower() = default;
    virtual void on_feed_changed(const ProjectFeed& feed) = 0;
};

class ProjectFeed : public std::enable_shared_from_this<ProjectFeed> {
public:
    // Events kept in memory at most (the oldest go first, and are read
    // again from Redis for a viewer that needs them).
    static constexpr std::size_t max_events = 10'000;

    ProjectFeed(std::string project, const Catalog& catalog, HistoryReader& reader,
                const EstimateRules& rules, HistoryCounters& counters);

    [[nodiscard]] const std::string& project() const { return project_; }
    [[nodiscard]] const std::string& channel() const { return channel_; }

    // From the gateway: the live subscription is (again) in place; a message
    // came on the channel; the history reader is (again) connected.
    void on_subscribed();
    void on_message();
    void on_reader_ready();
    // Every second: tries again a read that failed; makes the estimate
    // anew when the current stage crossed one of its thresholds.
    void on_tick();
    // Redis refused the gateway the channel (its ACL user lacks it): the
    // viewers are told so instead of being placed, until `until`, when the
    // gateway closes the feed and the next viewer makes it ask again.
    void on_refused(std::chrono::steady_clock::time_point until);
    [[nodiscard]] bool refused() const { return state_.refused(); }
    // While refused(): when the gateway asks again.
    [[nodiscard]] std::chrono::steady_clock::time_point refused_until() const {
        return state_.refused_until();
    }

    // Followers: told when the feed changes (at once when it is ready or
    // refused already). A follower detaches itself when it goes.
    void attach(const std::shared_ptr<FeedFollower>& follower);
    void detach(const FeedFollower& follower);
    [[nodiscard]] std::size_t follower_count() const { return followers_.size(); }
    // Runs when the last follower has gone (the gateway closes the feed later).
    void on_idle(std::function<void()> idle) { on_idle_ = std::move(idle); }

    // The history has been read once since the subscription began: viewers
    // can be placed.
    [[nodiscard]] bool ready() const { return state_.ready(); }
    // The build's final code is among the events: nothing more will come.
    [[nodiscard]] bool finished() const { return timeline().progress().finished(); }
    [[nodiscard]] bool empty() const { return events_.empty(); }

    // Positions count every event since the feed opened: [begin(), end()).
    [[nodiscard]] std::uint64_t begin() const { return first_; }
    [[nodiscard]] std::uint64_t end() const { return first_ + events_.size(); }
    [[nodiscard]] const std::shared_ptr<const FeedEvent>& at(std::uint64_t position) const;
    // The id of the newest event that went out of memory (none: {}).
    [[nodiscard]] const EntryId& dropped_through() const { return dropped_through_; }

    [[nodiscard]] const BuildTimeline& timeline() const { return reader_->timeline(); }
    // The build's state with its estimate now, as the state endpoint serves it.
    [[nodiscard]] std::string state_json() const;

    // The build's start and estimate, as learnt so far; its latest message
    // is empty before the history and the profile were read.
    [[nodiscard]] const ProjectEstimate& estimate() const { return *estimate_; }

private:
    // Reads the stream after the last id, when state_ says so.
    void read_if(bool wanted);
    void on_page(std::optional<TimelineReader::Page> page);
    void notify();
    void on_learnt();

    std::string project_;
    std::string channel_;
    std::shared_ptr<TimelineReader> reader_;
    std::shared_ptr<ProjectEstimate> estimate_;
    std::deque<std::shared_ptr<const FeedEvent>> events_;
    std::uint64_t first_ = 0;
    EntryId dropped_through_{};
    FeedState state_;
    std::vector<std::shared_ptr<FeedFollower>> followers_;
    std::function<void()> on_idle_;
};

}  // namespace bscd
