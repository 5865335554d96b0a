#pragma once
// A viewer over Server-Sent Events: one chunked text/event-stream response
// (close-delimited for HTTP/1.0)
// carrying the history, then live events, then the end of the stream after
// the final code. Events are written in batches straight from the
// project's feed; a comment every heartbeat keeps proxies from closing an
// idle stream.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/gateway.hpp"
#include "gateway/responses.hpp"
#include "gateway/viewer.hpp"

namespace bscd {

class SseSession : public Viewer, public std::enable_shared_from_this<SseSession> {
public:
    SseSession(boost::beast::tcp_stream stream, Gateway& gateway, Gateway::Slot slot,
               std::shared_ptr<ProjectFeed> feed, std::optional<EntryId> after,
               const HttpRequest& request, std::string peer);
    ~SseSession() override;
    SseSession(const SseSession&) = delete;
    SseSession& operator=(const SseSession&) = delete;

    void start();
    void on_feed_changed() override;

private:
    void send_head();
    void send_no_content();
    void await_placement();
    void send_unavailable();
    void send_refused();
    // A 503 with Retry-After and a JSON body, after which the connection closes.
    void send_error(const std::string& retry_after, std::string body);
    void pump();
    void write_chunk(const std::vector<boost::asio::const_buffer>& buffers, std::size_t events);
    void on_written(boost::beast::error_code ec, std::size_t events);
    void finish();
    void drop(std::string_view why);
    void schedule_heartbeat();
    void watch_peer();

    boost::beast::tcp_stream stream_;
    Gateway& gateway_;
    Gateway::Slot slot_;
    std::string peer_;
    http::response<http::empty_body> head_;
    std::optional<http::response_serializer<http::empty_body>> head_writer_;
    std::optional<HttpResponse> unavailable_;  // a 503, while it is written
    std::string preamble_;                     // "retry: ...", the first chunk's start
    std::string heartbeat_frame_;
    std::vector<std::shared_ptr<const FeedEvent>> in_flight_;  // kept alive while written
    boost::asio::steady_timer heartbeat_timer_;
    std::array<char, 256> peer_input_{};
    std::uint64_t writes_done_ = 0;
    std::uint64_t writes_done_at_beat_ = 0;  // writes_done_ at the last heartbeat
    bool head_sent_ = false;
    bool preamble_sent_ = false;
    bool writing_ = false;
    bool closed_ = false;
};

}  // namespace bscd
