#pragma once
// A viewer over WebSocket: the same events as SSE, one JSON text message
// each, then a normal close (1000) after the final code. Beast's keep-alive
// pings keep idle connections open and find dead ones; what the client
// sends is read (for control frames) and ignored.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "gateway/gateway.hpp"
#include "gateway/responses.hpp"
#include "gateway/viewer.hpp"

namespace bscd {

class WebSocketSession : public Viewer, public std::enable_shared_from_this<WebSocketSession> {
public:
    WebSocketSession(boost::beast::tcp_stream stream, Gateway& gateway, Gateway::Slot slot,
                     std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
                     std::string peer);
    ~WebSocketSession() override;
    WebSocketSession(const WebSocketSession&) = delete;
    WebSocketSession& operator=(const WebSocketSession&) = delete;

    // Completes the upgrade `request` asked for, then relays events.
    void start(const HttpRequest& request);
    void on_feed_changed() override;

private:
    void on_accept(boost::beast::error_code ec);
    void pump();
    void read_loop();
    void finish();
    void close_refused();
    void drop(std::string_view why);
    void await_placement();

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    Gateway& gateway_;
    Gateway::Slot slot_;
    std::string peer_;
    boost::beast::flat_buffer input_;
    boost::asio::steady_timer placement_timer_;
    std::vector<std::shared_ptr<const FeedEvent>> in_flight_;  // the batch being written
    std::size_t next_ = 0;                                     // its next message
    bool open_ = false;                                        // handshake done, not closing
    bool writing_ = false;
    bool awaiting_placement_ = false;  // placement_timer_ runs
};

}  // namespace bscd
