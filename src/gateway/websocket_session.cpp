#include "gateway/websocket_session.hpp"

#include <spdlog/spdlog.h>

namespace bscd {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
// Clients have nothing to say; a larger message is an abuse.
constexpr std::size_t max_client_message = 4096;
}  // namespace

WebSocketSession::WebSocketSession(beast::tcp_stream stream, ViewerLoop& loop, Gateway::Slot slot,
                                   std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
                                   std::string peer)
    : Viewer(loop, std::move(feed), after, std::move(peer), ViewerState::Handshaking),
      ws_(std::move(stream)),
      slot_(std::move(slot)) {
    this->loop().metrics().websocket_viewers.add();
}

WebSocketSession::~WebSocketSession() {
    loop().metrics().websocket_viewers.subtract();
}

void WebSocketSession::start(const HttpRequest& request) {
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    // A ping after half of this idle, closed after all of it unanswered.
    timeouts.idle_timeout = 2 * loop().options().heartbeat;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(http::field::server, "bscd-gateway");
    }));
    ws_.read_message_max(max_client_message);
    ws_.text(true);
    ws_.async_accept(request, [self = self<WebSocketSession>()](beast::error_code ec) {
        if (ec) {
            self->lost("WebSocket handshake failed: " + ec.message());
            return;
        }
        spdlog::debug("Viewer {} follows project {} (WebSocket)", self->peer(),
                      self->feed().project());
        self->read_loop();
        self->begin();
    });
}

void WebSocketSession::open_stream() {
    written({}, 0);  // the handshake was the head
}

void WebSocketSession::write_events(const std::vector<std::shared_ptr<const FeedEvent>>& batch) {
    next_ = 0;
    write_next(batch);
}

void WebSocketSession::write_next(const std::vector<std::shared_ptr<const FeedEvent>>& batch) {
    // One message per event; the batch counts as one write for the viewer.
    ws_.async_write(
        boost::asio::buffer(batch[next_]->json()),
        [self = self<WebSocketSession>(), &batch](beast::error_code ec, std::size_t /*bytes*/) {
            if (!ec && ++self->next_ < batch.size()) {
                self->write_next(batch);
                return;
            }
            self->written(ec, self->next_);
        });
}

void WebSocketSession::write_heartbeat() {
    written({}, 0);  // Beast's keep-alive pings do it
}

void WebSocketSession::end_stream(StreamEnd why, bool /*opened*/) {
    websocket::close_reason reason;
    switch (why) {
        case StreamEnd::Finished:
            reason = websocket::close_reason(websocket::close_code::normal, "build finished");
            break;
        case StreamEnd::Refused:
            reason = websocket::close_reason(websocket::close_code::try_again_later,
                                             "the gateway may not read this project's channel");
            break;
        case StreamEnd::Unavailable:
            reason = websocket::close_reason(websocket::close_code::try_again_later,
                                             "history unreadable now");
            break;
    }
    ws_.async_close(reason,
                    [self = self<WebSocketSession>()](beast::error_code /*ec*/) { self->ended(); });
}

void WebSocketSession::close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

void WebSocketSession::read_loop() {
    ws_.async_read(input_, [self = self<WebSocketSession>()](beast::error_code ec,
                                                             std::size_t /*bytes*/) {
        self->input_.clear();
        if (ec) {
            self->lost(ec == websocket::error::closed ? "it closed the WebSocket" : ec.message());
            return;
        }
        self->read_loop();
    });
}

}  // namespace bscd
