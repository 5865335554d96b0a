#pragma once
// What SSE and WebSocket viewers share: a position in their project's feed.
// A viewer is placed once the feed has read the history (after the event it
// resumes from, or at the start), then takes events in order: whenever its
// previous write is done, everything that is waiting, so bursts go to the
// kernel's socket buffer at once. Its send queue is what waits behind a
// write that has not completed; more than the limit of live events there
// means the viewer cannot keep up: it is dropped, so it never slows the
// others (it resumes with Last-Event-ID).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/entry_id.hpp"
#include "gateway/project_feed.hpp"

namespace bscd {

// How long a new viewer waits for its project's history to be read (Redis
// unreachable, or its link not back yet) before it is told to come back
// later: a heartbeat, so that no proxy gives up first, but at least 5 s.
std::chrono::milliseconds placement_timeout(std::chrono::milliseconds heartbeat);

class Viewer {
public:
    Viewer(const Viewer&) = delete;
    Viewer& operator=(const Viewer&) = delete;
    virtual ~Viewer();

    // The feed became ready, has new events, or was refused (the viewer
    // then checks feed().refused() first). Must not detach or destroy
    // the viewer synchronously (the feed is iterating its viewers).
    virtual void on_feed_changed() = 0;

protected:
    Viewer(std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
           std::size_t queue_limit);

    // The viewer is attached to the feed from construction on, and told of
    // changes (which it may ignore until it is set up); begin() calls
    // on_feed_changed() at once if the feed is ready (or refused) already.
    void begin();

    // Places the viewer if the feed is ready; false while it is not.
    bool placed();
    // The events from the viewer's position on, which it then passes, and
    // after them the estimate message if it changed since the last take.
    std::vector<std::shared_ptr<const FeedEvent>> take();
    // More live events are waiting than the queue may hold (to be asked
    // while a write is pending: otherwise they would all be taken).
    [[nodiscard]] bool too_slow() const;
    // Why a viewer that is too_slow() is dropped, for the log line.
    [[nodiscard]] std::string slowness() const;
    // Everything up to the final code has been taken: the stream may end.
    [[nodiscard]] bool done() const { return feed_->finished() && position_ == feed_->end(); }
    [[nodiscard]] bool has_pending() const { return position_ < feed_->end(); }
    [[nodiscard]] const ProjectFeed& feed() const { return *feed_; }

private:
    std::shared_ptr<ProjectFeed> feed_;
    std::optional<EntryId> after_;
    std::size_t queue_limit_;
    bool placed_ = false;
    std::uint64_t position_ = 0;
    std::uint64_t live_from_ = 0;      // the feed's end when placed: older events are the replay
    std::uint64_t estimate_seen_ = 0;  // the feed's estimate_version() last taken
};

}  // namespace bscd
