#include "gateway/viewer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/gateway.hpp"
#include "gateway/viewer_loop.hpp"

namespace bscd {

namespace {

// How long the stream's end (or an error answer) may take to write.
constexpr auto end_timeout = std::chrono::seconds(30);

}  // namespace

std::chrono::milliseconds placement_timeout(std::chrono::milliseconds heartbeat) {
    return std::max<std::chrono::milliseconds>(heartbeat, std::chrono::seconds(5));
}

Viewer::Viewer(ViewerLoop& loop, std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
               std::string peer, ViewerState first)
    : loop_(loop), feed_(std::move(feed)), peer_(std::move(peer)), taken_(after), state_(first) {
    // From the start, so that a viewer that never gets going (a failed
    // WebSocket handshake) still lets the feed go when it goes.
    feed_->attach(*this);
    loop_.enlist(*this);
}

Viewer::~Viewer() {
    feed_->detach(*this);  // the loop's list lets go by itself (auto_unlink)
}

void Viewer::begin() {
    state_ = ViewerState::Waiting;
    deadline_ = std::chrono::steady_clock::now() + placement_timeout(loop_.options().heartbeat);
    on_feed_changed();
}

void Viewer::on_feed_changed() {
    switch (state_) {
        case ViewerState::Waiting:
            if (feed_->refused()) {
                end(StreamEnd::Refused);
            } else if (place()) {
                if (done()) {
                    end(StreamEnd::Finished);  // finished, and nothing after the resume point
                } else {
                    state_ = ViewerState::Opening;
                    deadline_ = std::chrono::steady_clock::now() + loop_.options().heartbeat;
                    open_stream();
                }
            }
            return;
        case ViewerState::Idle:
            pump();
            return;
        case ViewerState::Writing:
            if (too_slow()) {
                drop(fmt::format("cannot keep up: more than {} live events behind",
                                 loop_.options().viewer_queue));
            }
            return;  // written() takes what came meanwhile
        case ViewerState::Handshaking:
        case ViewerState::Opening:
        case ViewerState::Reading:  // on_backfill() takes what came meanwhile
        case ViewerState::Ending:
        case ViewerState::Closed:
            return;
    }
}

void Viewer::on_tick(std::chrono::steady_clock::time_point now) {
    if (now < deadline_) {
        return;
    }
    const auto heartbeat = loop_.options().heartbeat;
    switch (state_) {
        case ViewerState::Waiting:
            spdlog::debug("Viewer {} of project {}: the history could not be read in time", peer_,
                          feed_->project());
            end(StreamEnd::Unavailable);
            return;
        case ViewerState::Idle:
            deadline_ = now + heartbeat;
            writes_done_at_beat_ = writes_done_;
            state_ = ViewerState::Writing;
            write_heartbeat();
            return;
        case ViewerState::Opening:
        case ViewerState::Writing:
            // A write pending since the last beat: the viewer reads nothing.
            if (writes_done_ == writes_done_at_beat_) {
                drop("a write has not completed for a heartbeat");
                return;
            }
            writes_done_at_beat_ = writes_done_;
            deadline_ = now + heartbeat;
            return;
        case ViewerState::Ending:
            state_ = ViewerState::Closed;  // the end could not be written in time
            close_socket();
            return;
        case ViewerState::Handshaking:  // the transport's own timeout
        case ViewerState::Reading:      // the history reader's link is watched (PINGs)
        case ViewerState::Closed:
            return;
    }
}

bool Viewer::place() {
    if (!feed_->ready()) {
        return false;
    }
    position_ = taken_ ? feed_->position_after(*taken_) : feed_->begin();
    // Resuming from inside a gap (entries this gateway never read): the
    // gap event, which sorts just after its own start, comes first.
    if (position_ > feed_->begin() && !feed_->at(position_ - 1)->resume_point() &&
        position_ < feed_->end()) {
        --position_;
        taken_ = gap_start(feed_->at(position_)->id);
    }
    live_from_ = feed_->end();
    return true;
}

void Viewer::pump() {
    if (feed_->refused()) {
        // Its subscription was refused when it was made again (the ACL
        // changed): the viewer reconnects and is told why.
        end(StreamEnd::Refused);
        return;
    }
    if (backfill_ || behind_feed()) {
        read_backfill();
        return;
    }
    batch_.clear();
    position_ = std::max(position_, feed_->begin());
    while (position_ < feed_->end()) {
        const auto& event = feed_->at(position_++);
        // Placed before this loop's feed had read up to the resume point
        // (the viewer left a gateway that was ahead of this one), or had
        // these from its backfill: what it had already is not sent again.
        if (taken_ && event->id <= *taken_) {
            continue;
        }
        if (event->resume_point()) {
            taken_ = event->id;
        }
        batch_.push_back(event);
    }
    // Caught up: the estimate as it stands now, once per change.
    if (estimate_seen_ != feed_->estimate_version() && feed_->estimate_message()) {
        estimate_seen_ = feed_->estimate_version();
        batch_.push_back(feed_->estimate_message());
    }
    if (!batch_.empty()) {
        state_ = ViewerState::Writing;
        write_events(batch_);
    } else if (done()) {
        end(StreamEnd::Finished);
    }
}

bool Viewer::behind_feed() const {
    const EntryId& dropped = feed_->dropped_through();
    return dropped != EntryId{} && (!taken_ || *taken_ < dropped);
}

void Viewer::read_backfill() {
    if (!backfill_) {
        backfill_ = std::make_shared<Backfill>(feed_->project(), taken_, feed_->dropped_through());
        spdlog::debug("Viewer {} of project {}: reading the events before {} again", peer_,
                      feed_->project(), backfill_->through().str());
    }
    state_ = ViewerState::Reading;
    loop_.gateway().read_backfill(
        backfill_, loop_.io().get_executor(),
        [self = shared_from_this()](Backfill::Page page) { self->on_backfill(std::move(page)); });
}

void Viewer::on_backfill(Backfill::Page page) {
    if (state_ != ViewerState::Reading) {
        return;  // gone meanwhile
    }
    if (page.failed) {
        spdlog::debug("Viewer {} of project {}: the older history could not be read", peer_,
                      feed_->project());
        end(StreamEnd::Unavailable);  // it resumes from what it had
        return;
    }
    if (page.done) {
        backfill_.reset();
    }
    batch_ = std::move(page.events);
    for (const auto& event : batch_) {
        if (event->resume_point()) {
            taken_ = event->id;
        }
    }
    if (batch_.empty()) {
        state_ = ViewerState::Idle;
        pump();
        return;
    }
    state_ = ViewerState::Writing;
    write_events(batch_);
}

void Viewer::written(boost::system::error_code ec, std::size_t events) {
    batch_.clear();
    if (state_ == ViewerState::Closed) {
        return;  // dropped, or gone, meanwhile
    }
    if (ec) {
        lost(ec.message());
        return;
    }
    ++writes_done_;
    loop_.metrics().events_relayed_total.add(events);
    if (state_ == ViewerState::Opening) {
        opened_ = true;
        deadline_ = std::chrono::steady_clock::now() + loop_.options().heartbeat;
    }
    state_ = ViewerState::Idle;
    pump();
}

void Viewer::end(StreamEnd why) {
    switch (why) {
        case StreamEnd::Finished:
            spdlog::debug("Viewer {} of project {}: the stream ends", peer_, feed_->project());
            break;
        case StreamEnd::Refused:
            spdlog::info(
                "Viewer {} of project {} ({}): Redis refused the gateway the channel {}, "
                "ending the stream",
                peer_, feed_->project(), transport(), feed_->channel());
            break;
        case StreamEnd::Unavailable:
            break;  // logged by on_tick()
    }
    state_ = ViewerState::Ending;
    deadline_ = std::chrono::steady_clock::now() + end_timeout;
    end_stream(why, opened_);
}

void Viewer::ended() {
    state_ = ViewerState::Closed;
}

void Viewer::lost(std::string_view why) {
    if (state_ == ViewerState::Ending) {
        return;  // the end's own completion closes
    }
    if (state_ != ViewerState::Closed) {
        spdlog::debug("Viewer {} of project {} went away: {}", peer_, feed_->project(), why);
        state_ = ViewerState::Closed;
        close_socket();
    }
}

void Viewer::drop(std::string_view why) {
    spdlog::warn("Dropping viewer {} of project {}: {}", peer_, feed_->project(), why);
    loop_.metrics().viewers_dropped_slow_total.add();
    state_ = ViewerState::Closed;
    close_socket();  // pending operations complete with an error
}

bool Viewer::too_slow() const {
    const std::uint64_t from = std::max(position_, live_from_);
    return feed_->end() > from && feed_->end() - from > loop_.options().viewer_queue;
}

}  // namespace bscd
