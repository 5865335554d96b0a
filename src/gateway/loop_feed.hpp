#pragma once
// A project's feed as the viewers of one event loop see it. The gateway's
// ProjectFeed (on the Redis loop) posts what changed to it: the new events,
// shared and never copied, the latest estimate message, whether the feed is
// ready, finished or refused. The loop's viewers then take them from here,
// with no lock and no other thread involved. Made with a loop's first
// viewer of the project, let go with its last.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "core/entry_id.hpp"
#include "gateway/feed_event.hpp"
#include "gateway/project_estimate.hpp"
#include "gateway/project_feed.hpp"

namespace bscd {

class Viewer;
class ViewerLoop;

class LoopFeed : public FeedFollower, public std::enable_shared_from_this<LoopFeed> {
public:
    LoopFeed(std::string project, ViewerLoop& loop);

    // On the Redis loop: posts what changed since the last call to this
    // feed's loop.
    void on_feed_changed(const ProjectFeed& feed) override;

    // Everything below: on this feed's loop.
    [[nodiscard]] const std::string& project() const { return project_; }
    [[nodiscard]] const std::string& channel() const { return channel_; }

    // Viewers: told (Viewer::on_feed_changed) when something changed. The
    // last one to detach lets the feed go.
    void attach(Viewer& viewer);
    void detach(Viewer& viewer);
    [[nodiscard]] std::size_t viewer_count() const { return viewers_.size(); }

    // As ProjectFeed's: the history has been read (viewers can be placed);
    // the final code is among the events; Redis refused the channel.
    [[nodiscard]] bool ready() const {
        return std::holds_alternative<Live>(phase_) || std::holds_alternative<Finished>(phase_);
    }
    [[nodiscard]] bool finished() const { return std::holds_alternative<Finished>(phase_); }
    [[nodiscard]] bool refused() const { return std::holds_alternative<Refused>(phase_); }
    // While refused(): how long until the gateway asks Redis again, in
    // whole seconds (at least 1), for Retry-After.
    [[nodiscard]] std::chrono::seconds refusal_left() const;

    // Positions are the ProjectFeed's: [begin(), end()).
    [[nodiscard]] std::uint64_t begin() const { return first_; }
    [[nodiscard]] std::uint64_t end() const { return first_ + events_.size(); }
    [[nodiscard]] std::uint64_t position_after(const EntryId& id) const;
    [[nodiscard]] const std::shared_ptr<const FeedEvent>& at(std::uint64_t position) const;
    // As ProjectFeed's: the newest event no longer kept in memory (none: {}).
    [[nodiscard]] const EntryId& dropped_through() const { return dropped_through_; }

    // The latest estimate message (null before the history and the profile
    // were read), as of now if it was made over a second ago; its version.
    const std::shared_ptr<const FeedEvent>& estimate_message();
    [[nodiscard]] std::uint64_t estimate_version() const { return estimate_version_; }

private:
    // The feed as the viewers go by it, as the ProjectFeed last posted it
    // (phase_of() reads it there, once per post).
    struct NotPosted {};  // nothing yet: no position is known
    struct Waiting {};    // for the history to be read: viewers wait to be placed
    struct Live {};       // viewers are placed, new events follow
    struct Finished {};   // ready, the final code among the events: nothing more comes
    struct Refused {      // Redis refused the channel: viewers are told so
        std::chrono::steady_clock::time_point until;
    };
    using Phase = std::variant<NotPosted, Waiting, Live, Finished, Refused>;
    static Phase phase_of(const ProjectFeed& feed);

    struct Update {
        std::uint64_t first = 0;  // the position of events[0]
        std::vector<std::shared_ptr<const FeedEvent>> events;
        std::uint64_t begin = 0;  // the ProjectFeed's begin(): older events are gone
        EntryId dropped_through;
        Phase phase;
        EstimateMessage estimate;
        std::uint64_t estimate_version = 0;
    };
    void apply(Update update);

    std::string project_;
    std::string channel_;
    ViewerLoop& loop_;

    // The Redis loop's side: the ProjectFeed's end() at the last post.
    std::uint64_t sent_end_ = 0;

    // This loop's side.
    std::deque<std::shared_ptr<const FeedEvent>> events_;
    std::uint64_t first_ = 0;
    EntryId dropped_through_;
    Phase phase_;
    EstimateMessage estimate_;
    std::uint64_t estimate_version_ = 0;
    std::unordered_set<Viewer*> viewers_;
};

}  // namespace bscd
