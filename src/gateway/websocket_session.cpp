#include "gateway/websocket_session.hpp"

#include <spdlog/spdlog.h>

namespace bscd {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
// Clients have nothing to say; a larger message is an abuse.
constexpr std::size_t max_client_message = 4096;
}  // namespace

WebSocketSession::WebSocketSession(beast::tcp_stream stream, Gateway& gateway, Gateway::Slot slot,
                                   std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
                                   std::string peer)
    : Viewer(std::move(feed), after, gateway.options().viewer_queue),
      ws_(std::move(stream)),
      gateway_(gateway),
      slot_(std::move(slot)),
      peer_(std::move(peer)),
      placement_timer_(ws_.get_executor()) {
    ++gateway_.metrics().websocket_viewers;
}

WebSocketSession::~WebSocketSession() {
    --gateway_.metrics().websocket_viewers;
}

void WebSocketSession::start(const HttpRequest& request) {
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    // A ping after half of this idle, closed after all of it unanswered.
    timeouts.idle_timeout = 2 * gateway_.options().heartbeat;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(http::field::server, "bscd-gateway");
    }));
    ws_.read_message_max(max_client_message);
    ws_.text(true);
    ws_.async_accept(request,
                     [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
}

void WebSocketSession::on_accept(beast::error_code ec) {
    if (ec) {
        spdlog::debug("WebSocket handshake with {} failed: {}", peer_, ec.message());
        return;
    }
    open_ = true;
    spdlog::debug("Viewer {} follows project {} (WebSocket)", peer_, feed().project());
    read_loop();
    begin();
    if (open_ && !placed()) {
        await_placement();
    }
}

void WebSocketSession::await_placement() {
    awaiting_placement_ = true;
    placement_timer_.expires_after(placement_timeout(gateway_.options().heartbeat));
    placement_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || !self->open_ || self->placed()) {
            return;
        }
        spdlog::debug("Viewer {} of project {}: the history could not be read in time, closing",
                      self->peer_, self->feed().project());
        self->open_ = false;
        self->ws_.async_close(websocket::close_reason(websocket::close_code::try_again_later,
                                                      "history unreadable now"),
                              [self](beast::error_code /*ec*/) {});
    });
}

void WebSocketSession::on_feed_changed() {
    if (!open_) {
        return;
    }
    if (feed().refused()) {
        close_refused();
        return;
    }
    if (!placed()) {
        return;
    }
    if (awaiting_placement_) {
        awaiting_placement_ = false;
        placement_timer_.cancel();  // it would hold the session until it ran out
    }
    if (writing_ && too_slow()) {
        drop(slowness());
        return;
    }
    pump();
}

void WebSocketSession::pump() {
    if (writing_ || !open_) {
        return;
    }
    if (next_ == in_flight_.size()) {  // the batch is written: take what came meanwhile
        in_flight_ = take();
        next_ = 0;
        if (in_flight_.empty()) {
            if (done()) {
                finish();
            }
            return;
        }
    }
    // One message per event; the batch counts as one write for too_slow().
    writing_ = true;
    ws_.async_write(boost::asio::buffer(in_flight_[next_]->json),
                    [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                        self->writing_ = false;
                        if (ec) {
                            self->open_ = false;
                            self->in_flight_.clear();
                            return;
                        }
                        ++self->next_;
                        ++self->gateway_.metrics().events_relayed_total;
                        self->pump();
                    });
}

void WebSocketSession::read_loop() {
    ws_.async_read(input_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                       self->input_.clear();
                       if (ec) {
                           self->placement_timer_.cancel();  // gone: nothing to wait for
                           if (self->open_ && ec != websocket::error::closed) {
                               spdlog::debug("Viewer {} of project {} went away: {}", self->peer_,
                                             self->feed().project(), ec.message());
                           }
                           self->open_ = false;
                           return;
                       }
                       self->read_loop();
                   });
}

void WebSocketSession::finish() {
    open_ = false;
    ws_.async_close(websocket::close_reason(websocket::close_code::normal, "build finished"),
                    [self = shared_from_this()](beast::error_code /*ec*/) {});
}

void WebSocketSession::close_refused() {
    spdlog::info("Viewer {} of project {}: Redis refused the gateway the channel {}, closing",
                 peer_, feed().project(), feed().channel());
    open_ = false;
    placement_timer_.cancel();
    // As when the history cannot be read: try again later. (A close may
    // start while a write is pending; Beast allows one of each.)
    ws_.async_close(websocket::close_reason(websocket::close_code::try_again_later,
                                            "the gateway may not read this project's channel"),
                    [self = shared_from_this()](beast::error_code /*ec*/) {});
}

void WebSocketSession::drop(std::string_view why) {
    spdlog::warn("Dropping viewer {} of project {}: {}", peer_, feed().project(), why);
    ++gateway_.metrics().viewers_dropped_slow_total;
    open_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace bscd
