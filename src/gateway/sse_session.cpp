#include "gateway/sse_session.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/sse_frame.hpp"

namespace bscd {

namespace beast = boost::beast;

namespace {

// How long the head or the stream's end may take to write.
constexpr auto write_timeout = std::chrono::seconds(30);

}  // namespace

SseSession::SseSession(beast::tcp_stream stream, Gateway& gateway, Gateway::Slot slot,
                       std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
                       const HttpRequest& request, std::string peer)
    : Viewer(std::move(feed), after, gateway.options().viewer_queue),
      stream_(std::move(stream)),
      gateway_(gateway),
      slot_(std::move(slot)),
      peer_(std::move(peer)),
      head_(http::status::ok, request.version()),
      preamble_("retry: 2000\n\n"),
      heartbeat_frame_(sse_comment("keepalive")),
      heartbeat_timer_(stream_.get_executor()) {
    ++gateway_.metrics().sse_viewers;
    set_common_headers(head_.base(), request, gateway.options());
    head_.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head_.set(http::field::cache_control, "no-cache, no-transform");
    head_.set("X-Accel-Buffering", "no");  // nginx: pass events on at once
    // HTTP/1.0 (nginx's default towards upstreams) knows no chunks: the
    // stream then ends when the connection closes.
    head_.chunked(request.version() >= 11);
    head_.keep_alive(false);
}

SseSession::~SseSession() {
    --gateway_.metrics().sse_viewers;
}

void SseSession::start() {
    stream_.expires_never();  // streams are long; the heartbeat finds stalled ones
    spdlog::debug("Viewer {} follows project {} (SSE)", peer_, feed().project());
    watch_peer();
    begin();
    if (!head_sent_) {
        await_placement();
    }
}

void SseSession::await_placement() {
    // The heartbeat's timer: send_head() takes it over (cancelling this).
    heartbeat_timer_.expires_after(placement_timeout(gateway_.options().heartbeat));
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->closed_ && !self->head_sent_) {
            self->send_unavailable();
        }
    });
}

void SseSession::send_unavailable() {
    spdlog::debug("Viewer {} of project {}: the history could not be read in time, answering 503",
                  peer_, feed().project());
    send_error("5",
               "{\"error\":\"the project's history cannot be read now (the gateway's log "
               "says why)\"}\n");
}

void SseSession::send_refused() {
    spdlog::info("Viewer {} of project {}: Redis refused the gateway the channel {}, answering 503",
                 peer_, feed().project(), feed().channel());
    heartbeat_timer_.cancel();  // the wait for placement: nothing comes
    // Project and channel names need no JSON escaping (is_valid_project_name).
    send_error(std::to_string(feed().refusal_left().count()),
               "{\"error\":\"the gateway may not read this project's channel " + feed().channel() +
                   " (Redis refused it; the gateway's log says why)\"}\n");
}

void SseSession::send_error(const std::string& retry_after, std::string body) {
    head_sent_ = true;
    writing_ = true;
    closed_ = true;  // nothing else goes out on this connection
    unavailable_.emplace(std::move(head_.base()));
    unavailable_->result(http::status::service_unavailable);
    unavailable_->chunked(false);
    unavailable_->set(http::field::content_type, "application/json");
    unavailable_->set(http::field::retry_after, retry_after);
    unavailable_->body() = std::move(body);
    unavailable_->prepare_payload();
    stream_.expires_after(write_timeout);
    http::async_write(stream_, *unavailable_,
                      [self = shared_from_this()](beast::error_code /*ec*/, std::size_t /*bytes*/) {
                          self->writing_ = false;
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(
                              boost::asio::ip::tcp::socket::shutdown_both, ignored);
                      });
}

void SseSession::on_feed_changed() {
    if (closed_) {
        return;
    }
    if (feed().refused()) {
        if (head_sent_) {
            pump();  // ends the stream once the write in progress is done
        } else {
            send_refused();
        }
        return;
    }
    if (!placed()) {
        return;
    }
    if (!head_sent_) {
        if (done()) {
            send_no_content();  // finished, and nothing after the resume point
        } else {
            send_head();
        }
        return;
    }
    if (writing_ && too_slow()) {
        drop(slowness());
        return;
    }
    pump();
}

void SseSession::send_head() {
    head_sent_ = true;
    writing_ = true;
    head_writer_.emplace(head_);
    stream_.expires_after(write_timeout);
    http::async_write_header(
        stream_, *head_writer_,
        [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
            if (!ec) {
                self->schedule_heartbeat();
            }
            self->on_written(ec, 0);
        });
}

void SseSession::send_no_content() {
    head_sent_ = true;
    writing_ = true;
    head_.result(http::status::no_content);
    head_.chunked(false);
    head_.erase(http::field::content_type);
    head_writer_.emplace(head_);
    stream_.expires_after(write_timeout);
    http::async_write(stream_, *head_writer_,
                      [self = shared_from_this()](beast::error_code /*ec*/, std::size_t /*bytes*/) {
                          self->writing_ = false;
                          self->finish();
                      });
}

void SseSession::pump() {
    if (writing_ || closed_) {
        return;
    }
    if (feed().refused()) {
        // Its subscription was refused when it was made again (the ACL
        // changed): the viewer reconnects and is told why.
        spdlog::info(
            "Viewer {} of project {}: Redis refused the gateway the channel {}, ending "
            "the stream",
            peer_, feed().project(), feed().channel());
        finish();
        return;
    }
    in_flight_ = take();
    std::vector<boost::asio::const_buffer> buffers;
    buffers.reserve(in_flight_.size() + 1);
    if (!preamble_sent_) {
        preamble_sent_ = true;
        buffers.emplace_back(boost::asio::buffer(preamble_));
    }
    for (const auto& event : in_flight_) {
        buffers.emplace_back(boost::asio::buffer(event->sse));
    }
    if (!buffers.empty()) {
        write_chunk(buffers, in_flight_.size());
    } else if (done()) {
        finish();
    }
}

void SseSession::write_chunk(const std::vector<boost::asio::const_buffer>& buffers,
                             std::size_t events) {
    writing_ = true;
    auto written = [self = shared_from_this(), events](beast::error_code ec,
                                                       std::size_t /*bytes*/) {
        self->on_written(ec, events);
    };
    if (head_.chunked()) {
        boost::asio::async_write(stream_, http::make_chunk(buffers), std::move(written));
    } else {
        boost::asio::async_write(stream_, buffers, std::move(written));
    }
}

void SseSession::on_written(beast::error_code ec, std::size_t events) {
    writing_ = false;
    in_flight_.clear();
    if (ec) {
        if (!closed_) {
            spdlog::debug("Viewer {} of project {} went away: {}", peer_, feed().project(),
                          ec.message());
        }
        closed_ = true;
        heartbeat_timer_.cancel();
        return;
    }
    stream_.expires_never();  // after the head's deadline
    ++writes_done_;
    gateway_.metrics().events_relayed_total += events;
    pump();
}

void SseSession::finish() {
    if (closed_) {
        return;
    }
    heartbeat_timer_.cancel();
    closed_ = true;
    if (!head_.chunked()) {  // 204, or HTTP/1.0: the end of the connection ends it
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        return;
    }
    spdlog::debug("Viewer {} of project {}: the stream ends", peer_, feed().project());
    stream_.expires_after(write_timeout);
    boost::asio::async_write(
        stream_, http::make_chunk_last(),
        [self = shared_from_this()](beast::error_code /*ec*/, std::size_t /*bytes*/) {
            beast::error_code ignored;
            self->stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        });
}

void SseSession::drop(std::string_view why) {
    spdlog::warn("Dropping viewer {} of project {}: {}", peer_, feed().project(), why);
    ++gateway_.metrics().viewers_dropped_slow_total;
    closed_ = true;
    heartbeat_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);  // pending operations complete with an error
}

void SseSession::schedule_heartbeat() {
    heartbeat_timer_.expires_after(gateway_.options().heartbeat);
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->closed_) {
            return;
        }
        // A write pending since the last beat: the viewer reads nothing.
        // (Checked here rather than with a deadline per write, which cost
        // a timer per viewer per event.)
        if (self->writing_ && self->writes_done_ == self->writes_done_at_beat_) {
            self->drop("a write has not completed for a heartbeat");
            return;
        }
        self->writes_done_at_beat_ = self->writes_done_;
        if (!self->writing_ && !self->has_pending()) {
            self->write_chunk({boost::asio::buffer(self->heartbeat_frame_)}, 0);
        }
        self->schedule_heartbeat();
    });
}

void SseSession::watch_peer() {
    // Viewers send nothing after the request; a read ends when they leave.
    stream_.socket().async_read_some(
        boost::asio::buffer(peer_input_),
        [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
            if (!ec) {
                self->watch_peer();
                return;
            }
            if (!self->closed_) {
                self->closed_ = true;
                self->heartbeat_timer_.cancel();
                beast::error_code ignored;
                self->stream_.socket().close(ignored);
            }
        });
}

}  // namespace bscd
