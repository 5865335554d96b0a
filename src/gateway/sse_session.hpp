#pragma once
// A viewer over Server-Sent Events: one chunked text/event-stream response
// (close-delimited for HTTP/1.0) carrying the history, then live events,
// then the end of the stream after the final code; a comment every
// heartbeat keeps proxies from closing an idle stream. Only the framing is
// here: the life cycle is Viewer's. Each event's frame and chunk are made
// once for every viewer (FeedEvent), so a write is a list of shared buffers.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "gateway/gateway.hpp"
#include "gateway/responses.hpp"
#include "gateway/viewer.hpp"

namespace bscd {

class SseSession final : public Viewer {
public:
    SseSession(boost::asio::ip::tcp::socket socket, ViewerLoop& loop, Gateway::Slot slot,
               std::shared_ptr<LoopFeed> feed, std::optional<EntryId> after,
               const HttpRequest& request, std::string peer);
    ~SseSession() override;
    SseSession(const SseSession&) = delete;
    SseSession& operator=(const SseSession&) = delete;

    void start();

private:
    void open_stream() override;
    void write_events(const std::vector<std::shared_ptr<const FeedEvent>>& batch) override;
    void write_heartbeat() override;
    void end_stream(StreamEnd why, bool opened) override;
    void close_socket() override;
    [[nodiscard]] std::string_view transport() const override { return "SSE"; }

    // An answer instead of the stream (204, 503), then the connection closes.
    void answer(http::status status, std::optional<std::string> retry_after, std::string body);
    // Writes buffers_ (carrying `events` events), reporting with written().
    void write(std::size_t events);
    void shut_down();
    void watch_peer();

    boost::asio::ip::tcp::socket socket_;
    Gateway::Slot slot_;
    // The response's head until it is written (then its memory goes).
    std::unique_ptr<http::response<http::empty_body>> head_;
    bool chunked_;  // HTTP/1.1; HTTP/1.0 knows no chunks: the stream ends with the connection
    std::vector<boost::asio::const_buffer> buffers_;  // the write in flight; kept for its capacity
};

}  // namespace bscd
