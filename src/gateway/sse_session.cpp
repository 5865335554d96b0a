#include "gateway/sse_session.hpp"

#include <array>
#include <random>
#include <sstream>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/sse_frame.hpp"

namespace bscd {

namespace {

// The first bytes of every stream: how long the browser waits before it
// reconnects, drawn from 1 to 3 s for each viewer, so that the viewers of
// a gateway that went away do not all come back in the same instant.
std::string retry_hint() {
    thread_local std::minstd_rand draw{std::random_device{}()};
    std::uniform_int_distribution<int> retry_ms(1000, 3000);
    return "retry: " + std::to_string(retry_ms(draw)) + "\n\n";
}

// What every stream gets alike, made once.
const std::string& heartbeat_frame() {
    static const std::string frame = sse_comment("keepalive");
    return frame;
}
const std::string& heartbeat_chunk() {
    static const std::string chunk = http_chunk(heartbeat_frame());
    return chunk;
}
constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace

SseSession::SseSession(boost::asio::ip::tcp::socket socket, ViewerLoop& loop, Gateway::Slot slot,
                       std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
                       const HttpRequest& request, std::string peer)
    : Viewer(loop, std::move(feed), after, std::move(peer), ViewerState::Waiting),
      socket_(std::move(socket)),
      slot_(std::move(slot)),
      head_(
          std::make_unique<http::response<http::empty_body>>(http::status::ok, request.version())),
      chunked_(request.version() >= 11) {
    this->loop().metrics().sse_viewers.add();
    set_common_headers(head_->base(), request, this->loop().options());
    head_->set(http::field::content_type, "text/event-stream; charset=utf-8");
    head_->set(http::field::cache_control, "no-cache, no-transform");
    head_->set("X-Accel-Buffering", "no");  // nginx: pass events on at once
    // HTTP/1.0 (nginx's default towards upstreams) knows no chunks: the
    // stream then ends when the connection closes.
    head_->chunked(chunked_);
    head_->keep_alive(false);
}

SseSession::~SseSession() {
    loop().metrics().sse_viewers.subtract();
}

void SseSession::start() {
    spdlog::debug("Viewer {} follows project {} (SSE)", peer(), feed().project());
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // watch_peer() reads only what is there
    watch_peer();
    begin();
}

void SseSession::open_stream() {
    // The head and the retry hint in one write; the head's memory goes with it.
    std::ostringstream text;
    text << head_->base();
    text << (chunked_ ? http_chunk(retry_hint()) : retry_hint());
    head_.reset();
    auto bytes = std::make_shared<const std::string>(std::move(text).str());
    boost::asio::async_write(
        socket_, boost::asio::buffer(*bytes),
        [self = self<SseSession>(), bytes](boost::system::error_code ec, std::size_t /*bytes*/) {
            self->written(ec, 0);
        });
}

void SseSession::write_events(const std::vector<std::shared_ptr<const FeedEvent>>& batch) {
    buffers_.clear();
    for (const auto& event : batch) {
        buffers_.emplace_back(boost::asio::buffer(chunked_ ? event->chunk() : event->sse()));
    }
    write(batch.size());
}

void SseSession::write_heartbeat() {
    buffers_.clear();
    buffers_.emplace_back(boost::asio::buffer(chunked_ ? heartbeat_chunk() : heartbeat_frame()));
    write(0);
}

void SseSession::write(std::size_t events) {
    // What the kernel takes at once goes now, without an asynchronous
    // operation (nothing allocated, no completion to dispatch): a viewer
    // that keeps up costs one sendmsg per event. Only what is left waits
    // for the socket. (The socket is non-blocking: start().)
    boost::system::error_code ec;
    std::size_t sent = socket_.write_some(buffers_, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
        ec = {};
        sent = 0;
    }
    if (!ec && sent == boost::asio::buffer_size(buffers_)) {
        written(ec, events);
        return;
    }
    auto rest = buffers_.begin();
    while (rest != buffers_.end() && sent >= rest->size()) {
        sent -= rest->size();
        ++rest;
    }
    buffers_.erase(buffers_.begin(), rest);
    if (!buffers_.empty()) {
        buffers_.front() += sent;
    }
    auto done = [self = self<SseSession>(), events](boost::system::error_code write_ec,
                                                    std::size_t /*bytes*/) {
        self->written(write_ec, events);
    };
    if (ec) {  // reported as an asynchronous write would be: from the loop, not from here
        boost::asio::post(socket_.get_executor(), [done, ec] { done(ec, 0); });
        return;
    }
    boost::asio::async_write(socket_, buffers_, std::move(done));
}

void SseSession::end_stream(StreamEnd why, bool opened) {
    if (opened) {
        if (!chunked_) {  // HTTP/1.0: the end of the connection ends the stream
            shut_down();
            return;
        }
        boost::asio::async_write(
            socket_, boost::asio::buffer(last_chunk),
            [self = self<SseSession>()](boost::system::error_code /*ec*/, std::size_t /*bytes*/) {
                self->shut_down();
            });
        return;
    }
    switch (why) {
        case StreamEnd::Finished:
            answer(http::status::no_content, std::nullopt, {});
            return;
        case StreamEnd::Refused:
            // Project and channel names need no JSON escaping (is_valid_project_name).
            answer(http::status::service_unavailable, std::to_string(feed().refusal_left().count()),
                   "{\"error\":\"the gateway may not read this project's channel " +
                       feed().channel() + " (Redis refused it; the gateway's log says why)\"}\n");
            return;
        case StreamEnd::Unavailable:
            answer(http::status::service_unavailable, "5",
                   "{\"error\":\"the project's history cannot be read now (the gateway's log "
                   "says why)\"}\n");
            return;
    }
}

void SseSession::answer(http::status status, std::optional<std::string> retry_after,
                        std::string body) {
    auto response = std::make_shared<HttpResponse>(std::move(head_->base()));
    head_.reset();
    response->result(status);
    response->chunked(false);
    if (status == http::status::no_content) {
        response->erase(http::field::content_type);
    } else {
        response->set(http::field::content_type, "application/json");
        response->body() = std::move(body);
        response->prepare_payload();
    }
    if (retry_after) {
        response->set(http::field::retry_after, *retry_after);
    }
    http::async_write(
        socket_, *response,
        [self = self<SseSession>(), response](boost::system::error_code /*ec*/,
                                              std::size_t /*bytes*/) { self->shut_down(); });
}

void SseSession::shut_down() {
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    ended();
}

void SseSession::close_socket() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void SseSession::watch_peer() {
    // Viewers send nothing after the request: readable means gone (or
    // stray bytes, read and dropped). No buffer per viewer while waiting.
    socket_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                       [self = self<SseSession>()](boost::system::error_code ec) {
                           if (!ec) {
                               thread_local std::array<char, 512> discard{};
                               const std::size_t got =
                                   self->socket_.read_some(boost::asio::buffer(discard), ec);
                               if ((!ec && got > 0) || ec == boost::asio::error::would_block) {
                                   self->watch_peer();
                                   return;
                               }
                           }
                           if (ec != boost::asio::error::operation_aborted) {
                               self->lost(ec ? ec.message() : "the connection closed");
                           }
                       });
}

}  // namespace bscd
