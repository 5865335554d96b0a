#pragma once
// One HTTP connection (Beast chat example's `http_session`): reads
// requests one at a time within the idle timeout, answers the plain ones
// (page, assets, state, health, metrics, errors) and hands the connection
// over to an SseSession or a WebSocketSession for the streams.

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/client_address.hpp"
#include "core/web_route.hpp"
#include "gateway/gateway.hpp"
#include "gateway/request_decision.hpp"
#include "gateway/responses.hpp"

namespace bscd {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    // Request headers beyond this get 431; bodies beyond body_limit get 413.
    static constexpr std::size_t header_limit = 8192;  // 8 KiB
    static constexpr std::size_t body_limit = 4096;    // 4 KiB

    // On `loop`, where the connection stays (its streams included).
    HttpSession(boost::asio::ip::tcp::socket socket, ViewerLoop& loop, Gateway::Slot slot);
    void start();

private:
    void read_request();
    void on_read(boost::beast::error_code ec);
    void handle(const HttpRequest& request);
    // The limits (Admission): the 429 of a client over its rate; whether a
    // new viewer of `route`'s project gets a seat (else it is answered 503).
    std::optional<Answer> over_rate(const HttpRequest& request, const Route& route);
    bool seated(const HttpRequest& request, const Route& route);
    // The peer for a log line, with the client a trusted proxy names.
    std::string who(const HttpRequest& request) const;
    // Carrying out decide()'s decision (gateway/request_decision.hpp).
    void carry_out(const HttpRequest& request, const Route& route, const Answer& answer);
    void carry_out(const HttpRequest& request, const Route& route, const Preflight& preflight);
    void carry_out(const HttpRequest& request, const Route& route, const Serve& serve);
    void carry_out(const HttpRequest& request, const Route& route, const OpenEvents& events);
    void carry_out(const HttpRequest& request, const Route& route, const OpenWebSocket& socket);
    void serve_state(const HttpRequest& request, const std::string& project);
    void serve_builds(const HttpRequest& request);
    // A page of the gateway's own (index.html, builds.html), with its policies.
    void serve_page(const HttpRequest& request, std::string_view name);
    void send(HttpResponse response);
    void on_write(bool keep_alive, boost::beast::error_code ec);

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    ViewerLoop& loop_;
    Gateway& gateway_;
    Gateway::Slot slot_;
    std::string peer_;                       // for log lines
    std::optional<IpAddress> peer_address_;  // none when the socket could not say
};

}  // namespace bscd
