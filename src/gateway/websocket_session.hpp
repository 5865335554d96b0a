#pragma once
// A viewer over WebSocket: the same events as SSE, one JSON text message
// each, then a normal close (1000) after the final code. Beast's keep-alive
// pings keep idle connections open and find dead ones; what the client
// sends is read (for control frames) and ignored. Only the handshake and
// the framing are here: the life cycle is Viewer's.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "gateway/gateway.hpp"
#include "gateway/responses.hpp"
#include "gateway/viewer.hpp"

namespace bscd {

class WebSocketSession final : public Viewer {
public:
    WebSocketSession(boost::beast::tcp_stream stream, ViewerLoop& loop, Gateway::Slot slot,
                     std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
                     std::string peer);
    ~WebSocketSession() override;
    WebSocketSession(const WebSocketSession&) = delete;
    WebSocketSession& operator=(const WebSocketSession&) = delete;

    // Completes the upgrade `request` asked for, then relays events.
    void start(const HttpRequest& request);

private:
    void open_stream() override;
    void write_events(const std::vector<std::shared_ptr<const FeedEvent>>& batch) override;
    void write_heartbeat() override;
    void end_stream(StreamEnd why, bool opened) override;
    void close_socket() override;
    [[nodiscard]] std::string_view transport() const override { return "WebSocket"; }

    void write_next(const std::vector<std::shared_ptr<const FeedEvent>>& batch);
    void read_loop();

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    Gateway::Slot slot_;
    boost::beast::flat_buffer input_;
    std::size_t next_ = 0;  // the batch's next message
};

}  // namespace bscd
