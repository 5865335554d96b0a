#pragma once
// A viewer of a project, over either transport: its place in the project's
// feed, and its life cycle, written once for SSE and WebSocket. A viewer is
// placed once the feed has read the history (after the event it resumes
// from, or at the start), then takes events in order: whenever its previous
// write is done, everything that is waiting, so bursts go to the kernel's
// socket buffer at once. Its send queue is what waits behind a write that
// has not completed; more than the limit of live events there means the
// viewer cannot keep up: it is dropped, so it never slows the others (it
// resumes with Last-Event-ID).
//
// The transports (SseSession, WebSocketSession) keep only their framing and
// handshake: they open the stream, write a batch, a heartbeat, the end, and
// close the socket, each reporting back when done.
//
// A viewer that needs events its feed no longer keeps in memory (a new
// viewer of a long history, or one resuming from far back) has them read
// again from Redis (Backfill) a page at a time, then goes on in the feed.
//
// Timers: none per viewer. The viewer's loop ticks (ViewerLoop) and each
// tick asks every viewer whether a heartbeat is due, whether its write has
// been stuck for a whole heartbeat, or whether it waited too long for the
// history.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/intrusive/list_hook.hpp>
#include <boost/system/error_code.hpp>

#include "core/entry_id.hpp"
#include "gateway/backfill.hpp"
#include "gateway/loop_feed.hpp"

namespace bscd {

class ViewerLoop;

// How long a new viewer waits for its project's history to be read (Redis
// unreachable, or its link not back yet) before it is told to come back
// later: a heartbeat, so that no proxy gives up first, but at least 5 s.
std::chrono::milliseconds placement_timeout(std::chrono::milliseconds heartbeat);

// Where a viewer is in its life. Every transition is made in viewer.cpp.
enum class ViewerState {
    Handshaking,  // the transport's handshake (WebSocket) is under way: feed changes wait
    Waiting,      // for the feed's history, to be placed in it
    Opening,      // the stream's head is being written (SSE)
    Idle,         // streaming, nothing being written
    Writing,      // streaming, a write is in flight
    Reading,      // streaming, older events are being read from Redis (Backfill)
    Ending,       // the stream's end is being written
    Closed,       // nothing more goes out; the viewer goes with its last pending operation
};

// Why a stream ends.
enum class StreamEnd {
    Finished,     // everything up to the final code was sent (or nothing after the resume point)
    Refused,      // Redis refused the gateway the project's channel
    Unavailable,  // the history could not be read in time
};

class Viewer : public std::enable_shared_from_this<Viewer>,
               public boost::intrusive::list_base_hook<
                   boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
public:
    Viewer(const Viewer&) = delete;
    Viewer& operator=(const Viewer&) = delete;
    virtual ~Viewer();

    // From the feed: it became ready, has new events, or was refused. Never
    // detaches or destroys the viewer synchronously (the feed is iterating
    // its viewers).
    void on_feed_changed();
    // From the loop's ticker.
    void on_tick(std::chrono::steady_clock::time_point now);

    [[nodiscard]] ViewerState state() const { return state_; }

protected:
    Viewer(ViewerLoop& loop, std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
           std::string peer, ViewerState first);

    // Leaves Handshaking (or starts, for a transport without one): the
    // viewer waits for its placement, or is placed at once.
    void begin();

    // The transport's part. Each write reports with written().
    virtual void open_stream() = 0;  // the head; none for WebSocket (written() at once)
    virtual void write_events(const std::vector<std::shared_ptr<const FeedEvent>>& batch) = 0;
    virtual void write_heartbeat() = 0;
    // `opened`: the head was written (SSE: the end is a last chunk, not an
    // error answer). Reports with ended().
    virtual void end_stream(StreamEnd why, bool opened) = 0;
    virtual void close_socket() = 0;
    [[nodiscard]] virtual std::string_view transport() const = 0;

    // The transport's reports.
    void written(boost::system::error_code ec, std::size_t events);
    void ended();
    // The peer left (its read failed) or the handshake failed.
    void lost(std::string_view why);

    [[nodiscard]] const LoopFeed& feed() const { return *feed_; }
    [[nodiscard]] ViewerLoop& loop() { return loop_; }
    [[nodiscard]] const std::string& peer() const { return peer_; }
    template <class Self>
    std::shared_ptr<Self> self() {
        return std::static_pointer_cast<Self>(shared_from_this());
    }

private:
    bool place();
    void pump();
    // Events it has not had went out of the feed's memory.
    [[nodiscard]] bool behind_feed() const;
    void read_backfill();
    void on_backfill(Backfill::Page page);
    void end(StreamEnd why);
    void drop(std::string_view why);
    // Everything up to the final code has been taken: the stream may end.
    [[nodiscard]] bool done() const { return feed_->finished() && position_ == feed_->end(); }
    [[nodiscard]] bool too_slow() const;

    ViewerLoop& loop_;
    std::shared_ptr<LoopFeed> feed_;
    std::string peer_;  // for log lines
    // The resume point, then the last event taken: nothing up to it is sent (again).
    std::optional<EntryId> taken_;
    std::shared_ptr<Backfill> backfill_;  // while older events are being read
    ViewerState state_;
    bool opened_ = false;  // the head was written: the stream has begun
    std::uint64_t position_ = 0;
    std::uint64_t live_from_ = 0;      // the feed's end when placed: older events are the replay
    std::uint64_t estimate_seen_ = 0;  // the feed's estimate_version() last taken
    std::vector<std::shared_ptr<const FeedEvent>> batch_;  // being written; kept for its capacity
    std::chrono::steady_clock::time_point deadline_;       // placement (Waiting), next beat (after)
    std::uint64_t writes_done_ = 0;
    std::uint64_t writes_done_at_beat_ = 0;
};

}  // namespace bscd
