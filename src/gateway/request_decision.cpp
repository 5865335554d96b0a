#include "gateway/request_decision.hpp"

#include <algorithm>

#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/http_text.hpp"
#include "gateway/access_token.hpp"

namespace bscd {
namespace {

Answer error(http::status status, std::string message) {
    return Answer{status, std::move(message), {}, false, Refusal::None, false, std::nullopt};
}

bool is_token_char(char c) {
    constexpr std::string_view others = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           others.find(c) != std::string_view::npos;
}

Decision decide_events(const HttpRequest& request, const Route& route) {
    // The browser's own resume point wins over the page's ?after=.
    std::optional<EntryId> after = route.after;
    if (const auto header = request.find("Last-Event-ID"); header != request.end()) {
        after = parse_event_id(header->value());
        if (!after) {
            return error(http::status::bad_request,
                         "Last-Event-ID is not a history entry id (<ms>-<seq>)");
        }
    }
    return OpenEvents{after};
}

Decision decide_websocket(const HttpRequest& request, const Route& route,
                          const GatewayOptions& options) {
    if (!boost::beast::websocket::is_upgrade(request)) {
        return error(http::status::bad_request, "a WebSocket upgrade request is expected here");
    }
    // What Beast's handshake would refuse in its own words (plain text) is
    // refused here in the gateway's, before a feed opens.
    if (request[http::field::sec_websocket_version] != "13") {
        Answer answer =
            error(http::status::upgrade_required, "only WebSocket version 13 is supported");
        answer.websocket_version = true;
        return answer;
    }
    if (request[http::field::sec_websocket_key].size() != 24) {  // base64 of 16 bytes
        return error(http::status::bad_request,
                     "Sec-WebSocket-Key is missing or not 16 bytes in base64");
    }
    if (!origin_may_open_websocket(request, options)) {
        Answer answer = error(http::status::forbidden,
                              "this origin may not open a WebSocket here (--allow-origin)");
        answer.refusal = Refusal::Origin;
        return answer;
    }
    return OpenWebSocket{route.after};
}

Decision decide_project(const HttpRequest& request, const Route& route,
                        const GatewayOptions& options, const Admits& admits) {
    if (!admits(route.project, presented_token(request, route))) {
        Answer answer =
            error(http::status::forbidden, "a valid token for this project is required");
        answer.refusal = Refusal::Token;
        return answer;
    }
    const bool stream = route.kind == RouteKind::Events || route.kind == RouteKind::WebSocket;
    if (stream && request.method() != http::verb::get) {
        Answer answer = error(http::status::method_not_allowed, "event streams answer GET only");
        answer.allow = "GET";
        return answer;
    }
    if (route.kind == RouteKind::Page) {
        return Serve{Resource::Page};
    }
    if (route.kind == RouteKind::State) {
        return Serve{Resource::State};
    }
    if (route.kind == RouteKind::Events) {
        return decide_events(request, route);
    }
    return decide_websocket(request, route, options);  // decide() sends project routes only
}

Decision decide_builds(const HttpRequest& request, const Route& route, const Admits& admits) {
    if (!admits(std::string(operator_scope), presented_token(request, route))) {
        Answer answer = error(http::status::forbidden, "the operator's token is required");
        answer.refusal = Refusal::Token;
        return answer;
    }
    return Serve{route.kind == RouteKind::BuildsPage ? Resource::BuildsPage : Resource::BuildsList};
}

}  // namespace

Decision decide(const HttpRequest& request, const Route& route, const GatewayOptions& options,
                const Admits& admits) {
    if (std::string framing = transfer_encoding_error(request); !framing.empty()) {
        Answer answer = error(http::status::bad_request, std::move(framing));
        answer.close = true;
        answer.refusal = Refusal::Framing;
        return answer;
    }
    const http::verb method = request.method();
    if (method == http::verb::options && !options.allow_origins.empty()) {
        return Preflight{};
    }
    if (method != http::verb::get && method != http::verb::head) {
        Answer answer = error(http::status::method_not_allowed, "only GET and HEAD are served");
        answer.allow = "GET, HEAD";
        return answer;
    }
    switch (route_audience(route.kind)) {
        case RouteAudience::Project:
            return decide_project(request, route, options, admits);
        case RouteAudience::Operator:
            return decide_builds(request, route, admits);
        case RouteAudience::Anyone:
            break;
    }
    switch (route.kind) {
        case RouteKind::BadRequest:
            return error(http::status::bad_request, route.error);
        case RouteKind::Health:
            return Serve{Resource::Health};
        case RouteKind::Metrics:
            return Serve{Resource::Metrics};
        case RouteKind::Asset:
            return Serve{Resource::Asset};
        default:
            return error(http::status::not_found, "no such page");
    }
}

Answer over_rate_answer(std::chrono::seconds retry_after) {
    Answer answer = error(http::status::too_many_requests,
                          "too many requests from this address: try again in " +
                              std::to_string(retry_after.count()) + " s");
    answer.refusal = Refusal::Rate;
    answer.retry_after = retry_after;
    return answer;
}

Answer project_full_answer(const std::string& project, std::size_t seats,
                           std::chrono::seconds retry_after) {
    // Project names need no escaping (is_valid_project_name); dump() would do it anyway.
    Answer answer = error(http::status::service_unavailable,
                          "project " + project + " has as many viewers as this gateway takes (" +
                              std::to_string(seats) + "): try again later");
    answer.refusal = Refusal::Full;
    answer.retry_after = retry_after;
    return answer;
}

std::string transfer_encoding_error(const HttpRequest& request) {
    const auto [first, last] = request.equal_range(http::field::transfer_encoding);
    if (first == last) {
        return {};
    }
    if (request.count(http::field::content_length) > 0) {
        return "Transfer-Encoding and Content-Length together (RFC 9112 6.3)";
    }
    if (request.version() < 11) {
        return "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)";
    }
    // The codings of every field, in order. Strict, so that what passes is
    // what Beast's parser takes for a chunked body too: tokens only, chunked
    // last and once.
    std::string_view final_coding;
    bool chunked_before = false;
    for (auto field = first; field != last; ++field) {
        std::string_view list = field->value();
        for (;;) {
            const auto comma = list.find(',');
            const std::string_view coding = trim_ows(list.substr(0, comma));
            if (!coding.empty()) {
                if (!std::all_of(coding.begin(), coding.end(), is_token_char)) {
                    return "Transfer-Encoding is not a list of codings";
                }
                chunked_before = chunked_before || boost::beast::iequals(final_coding, "chunked");
                final_coding = coding;
            }
            if (comma == std::string_view::npos) {
                break;
            }
            list.remove_prefix(comma + 1);
        }
    }
    if (!boost::beast::iequals(final_coding, "chunked")) {
        return "the final Transfer-Encoding is not chunked (RFC 9112 6.3)";
    }
    if (chunked_before) {
        return "Transfer-Encoding names chunked more than once (RFC 9112 6.1)";
    }
    return {};
}

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

}  // namespace bscd
