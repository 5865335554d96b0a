#include "gateway/http_session.hpp"

#include <spdlog/spdlog.h>

#include "gateway/lingering_close.hpp"
#include "gateway/metrics.hpp"
#include "gateway/sse_session.hpp"
#include "gateway/web_assets.hpp"
#include "gateway/websocket_session.hpp"

namespace bscd {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

// The page's data comes from its own origin's API; nothing from elsewhere.
constexpr std::string_view page_policy =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

std::string peer_name(const boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) {
        return "unknown peer";
    }
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

// The token from ?token= or "Authorization: Bearer <token>".
std::string presented_token(const HttpRequest& request, const Route& route) {
    if (route.token && !route.token->empty()) {
        return *route.token;
    }
    const std::string_view authorization = request[http::field::authorization];
    constexpr std::string_view bearer = "bearer ";  // the scheme is case-insensitive
    if (authorization.size() > bearer.size() &&
        boost::beast::iequals(authorization.substr(0, bearer.size()), bearer)) {
        return std::string(authorization.substr(bearer.size()));
    }
    return {};
}

// A WebSocket is not covered by CORS: a page from anywhere could open one
// and read the events. Browsers always send Origin; it must be this host or
// one --allow-origin lets in. (Programs without Origin are not browsers.)
bool origin_may_open_websocket(const HttpRequest& request, const GatewayOptions& options) {
    const std::string_view origin = request[http::field::origin];
    if (origin.empty() || options.allowed_origin(origin)) {
        return true;
    }
    const std::string_view host = request[http::field::host];
    const auto scheme_end = origin.find("://");
    return !host.empty() && scheme_end != std::string_view::npos &&
           boost::beast::iequals(origin.substr(scheme_end + 3), host);
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, Gateway& gateway, Gateway::Slot slot)
    : stream_(std::move(socket)),
      gateway_(gateway),
      slot_(std::move(slot)),
      peer_(peer_name(stream_.socket())) {}

void HttpSession::start() {
    read_request();
}

void HttpSession::read_request() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(body_limit);
    // Covers the wait for a request and its arrival: slow senders are cut too.
    stream_.expires_after(gateway_.options().idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                         self->on_read(ec);
                     });
}

void HttpSession::on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
        if (ec == beast::error::timeout) {
            spdlog::debug("Closing idle connection from {}", peer_);
        }
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        return;
    }
    if (ec == http::error::header_limit) {
        send(error_response(http::status::request_header_fields_too_large,
                            "request header larger than 8 KiB"));
        return;
    }
    if (ec == http::error::body_limit) {
        send(error_response(http::status::payload_too_large, "request body larger than 4 KiB"));
        return;
    }
    if (ec) {
        spdlog::debug("Bad request from {}: {}", peer_, ec.message());
        send(error_response(http::status::bad_request, "malformed HTTP request"));
        return;
    }
    handle(parser_->release());
}

void HttpSession::handle(const HttpRequest& request) {
    const auto& options = gateway_.options();
    const http::verb method = request.method();
    if (method == http::verb::options && !options.allow_origins.empty()) {
        send(preflight_response(request, options));
        return;
    }
    if (method != http::verb::get && method != http::verb::head) {
        auto response = error_response(request, options, http::status::method_not_allowed,
                                       "only GET and HEAD are served");
        response.set(http::field::allow, "GET, HEAD");
        send(std::move(response));
        return;
    }
    const Route route = parse_route(request.target());
    switch (route.kind) {
        case RouteKind::BadRequest:
            send(error_response(request, options, http::status::bad_request, route.error));
            return;
        case RouteKind::NotFound:
            send(error_response(request, options, http::status::not_found, "no such page"));
            return;
        case RouteKind::Health: {
            const bool up = gateway_.redis_up();
            send(make_response(request, options,
                               up ? http::status::ok : http::status::service_unavailable,
                               "text/plain; charset=utf-8", up ? "ok\n" : "redis unavailable\n"));
            return;
        }
        case RouteKind::Metrics:
            send(make_response(request, options, http::status::ok, metrics_content_type,
                               gateway_.render_metrics()));
            return;
        case RouteKind::Asset: {
            const WebAsset* asset = find_web_asset(route.asset);
            if (asset == nullptr) {
                send(error_response(request, options, http::status::not_found, "no such asset"));
                return;
            }
            auto response = make_response(request, options, http::status::ok, asset->content_type,
                                          std::string(asset->body));
            response.set(http::field::cache_control, "no-cache");
            send(std::move(response));
            return;
        }
        case RouteKind::Page:
        case RouteKind::Events:
        case RouteKind::WebSocket:
        case RouteKind::State:
            handle_project(request, route);
            return;
    }
}

void HttpSession::handle_project(const HttpRequest& request, const Route& route) {
    const auto& options = gateway_.options();
    if (!gateway_.admits(route.project, presented_token(request, route))) {
        spdlog::info("Refused {} access to project {}: missing or wrong token", peer_,
                     route.project);
        send(error_response(request, options, http::status::forbidden,
                            "a valid token for this project is required"));
        return;
    }
    const bool stream = route.kind == RouteKind::Events || route.kind == RouteKind::WebSocket;
    if (stream && request.method() != http::verb::get) {
        auto response = error_response(request, options, http::status::method_not_allowed,
                                       "event streams answer GET only");
        response.set(http::field::allow, "GET");
        send(std::move(response));
        return;
    }
    switch (route.kind) {
        case RouteKind::Page: {
            const WebAsset* page = find_web_asset("index.html");
            auto response = make_response(request, options, http::status::ok, page->content_type,
                                          std::string(page->body));
            response.set("Content-Security-Policy", page_policy);
            response.set("Referrer-Policy", "no-referrer");  // the URL may hold a token
            send(std::move(response));
            return;
        }
        case RouteKind::State:
            serve_state(request, route.project);
            return;
        case RouteKind::Events: {
            // The browser's own resume point wins over the page's ?after=.
            std::optional<EntryId> after = route.after;
            if (const auto header = request.find("Last-Event-ID"); header != request.end()) {
                after = parse_event_id(header->value());
                if (!after) {
                    send(error_response(request, options, http::status::bad_request,
                                        "Last-Event-ID is not a history entry id (<ms>-<seq>)"));
                    return;
                }
            }
            std::make_shared<SseSession>(std::move(stream_), gateway_, std::move(slot_),
                                         gateway_.follow(route.project), after, request, peer_)
                ->start();
            return;
        }
        case RouteKind::WebSocket:
            if (!websocket::is_upgrade(request)) {
                send(error_response(request, options, http::status::bad_request,
                                    "a WebSocket upgrade request is expected here"));
                return;
            }
            // What Beast's handshake would refuse in its own words (plain
            // text) is refused here in the gateway's, before a feed opens.
            if (request[http::field::sec_websocket_version] != "13") {
                auto response = error_response(request, options, http::status::upgrade_required,
                                               "only WebSocket version 13 is supported");
                response.set(http::field::sec_websocket_version, "13");
                send(std::move(response));
                return;
            }
            if (request[http::field::sec_websocket_key].size() != 24) {  // base64 of 16 bytes
                send(error_response(request, options, http::status::bad_request,
                                    "Sec-WebSocket-Key is missing or not 16 bytes in base64"));
                return;
            }
            if (!origin_may_open_websocket(request, options)) {
                spdlog::info("Refused a WebSocket for project {} to {}: origin {} not allowed",
                             route.project, peer_, request[http::field::origin]);
                send(error_response(request, options, http::status::forbidden,
                                    "this origin may not open a WebSocket here (--allow-origin)"));
                return;
            }
            std::make_shared<WebSocketSession>(std::move(stream_), gateway_, std::move(slot_),
                                               gateway_.follow(route.project), route.after, peer_)
                ->start(request);
            return;
        default:
            return;
    }
}

void HttpSession::serve_state(const HttpRequest& request, const std::string& project) {
    gateway_.read_state(
        project, [self = shared_from_this(), request, project](const Gateway::State& state) {
            const auto& options = self->gateway_.options();
            if (state.json) {
                self->send(make_response(request, options, http::status::ok, "application/json",
                                         *state.json + "\n"));
            } else if (state.redis_failed) {
                self->send(error_response(request, options, http::status::service_unavailable,
                                          "Redis is not available"));
            } else {
                self->send(error_response(request, options, http::status::not_found,
                                          "project " + project + " has no history"));
            }
        });
}

void HttpSession::send(HttpResponse response) {
    auto shared = std::make_shared<HttpResponse>(std::move(response));
    const bool keep_alive = shared->keep_alive();
    stream_.expires_after(gateway_.options().idle_timeout);
    http::async_write(
        stream_, *shared,
        [self = shared_from_this(), shared, keep_alive](
            beast::error_code ec, std::size_t /*bytes*/) { self->on_write(keep_alive, ec); });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec) {
    if (ec) {
        return;
    }
    if (!keep_alive) {
        lingering_close(std::move(stream_));
        return;
    }
    read_request();
}

}  // namespace bscd
