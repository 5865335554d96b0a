// libFuzzer target: bscd-gateway's HTTP request handling without sockets.
// The bytes of one connection reach a Beast request parser in chunks,
// configured as HttpSession::read_request configures it and read as
// http::async_read reads (here through http::read on a stream of the
// chunks); for each request of the connection (keep-alive: several), the
// pure part of what the session does with it: parse_route(target),
// parse_event_id on Last-Event-ID, and decide() (gateway/request_decision),
// under several configurations. Aborts when a documented property of the
// Route (core/web_route.hpp) or of the decision does not hold: no stream or
// project resource without an admitted token, a 405 always with Allow, a
// resume point only from a well-formed id, and so on.
//
// Not covered: what HttpSession does with the decision (sockets, Redis).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/system/system_error.hpp>

#include "core/entry_id.hpp"
#include "core/project.hpp"
#include "core/web_route.hpp"
#include "fuzz_support.hpp"
#include "gateway/http_session.hpp"
#include "gateway/request_decision.hpp"

namespace {

namespace http = boost::beast::http;
using bscd::EntryId;
using bscd::Route;
using bscd::RouteKind;
using bscd::fuzz::is_printable_ascii;

// A SyncReadStream that delivers the chunks one read at a time (a read takes
// at most one chunk, as a socket read takes what has arrived), then EOF.
class ChunkStream {
public:
    explicit ChunkStream(std::vector<std::string_view> chunks) : chunks_(std::move(chunks)) {}

    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
        ec = {};
        if (next_ == chunks_.size()) {
            ec = boost::asio::error::eof;
            return 0;
        }
        std::string_view& chunk = chunks_[next_];
        const std::size_t n =
            boost::asio::buffer_copy(buffers, boost::asio::buffer(chunk.data(), chunk.size()));
        chunk.remove_prefix(n);
        if (chunk.empty()) {
            ++next_;
        }
        return n;
    }

    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers) {
        boost::system::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
        return n;
    }

private:
    std::vector<std::string_view> chunks_;
    std::size_t next_ = 0;
};

bool is_asset_name(std::string_view name) {
    return !name.empty() && name.find("..") == std::string_view::npos &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
           });
}

// Every byte as %XX, or only those outside RFC 3986's unreserved set.
std::string percent_encode(std::string_view text, bool every_byte) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved && !every_byte) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0x0f];
        }
    }
    return out;
}

bool same_route(const Route& a, const Route& b) {
    return a.kind == b.kind && a.project == b.project && a.asset == b.asset && a.after == b.after &&
           a.token == b.token && a.error == b.error;
}

// The target that names `route` (a project, builds or asset route), with its
// project or asset name percent-encoded byte by byte when `encode_name`.
std::string target_of(const Route& route, bool encode_name) {
    const std::string project = percent_encode(route.project, encode_name);
    std::string target;
    switch (route.kind) {
        case RouteKind::Page:
            target = "/projects/" + project;
            break;
        case RouteKind::Events:
            target = "/api/v1/projects/" + project + "/events";
            break;
        case RouteKind::WebSocket:
            target = "/api/v1/projects/" + project + "/ws";
            break;
        case RouteKind::State:
            target = "/api/v1/projects/" + project;
            break;
        case RouteKind::Asset:
            return "/assets/" + percent_encode(route.asset, encode_name);
        case RouteKind::BuildsPage:
            target = "/builds";
            break;
        case RouteKind::BuildsList:
            target = "/api/v1/builds";
            break;
        default:
            return target;
    }
    std::string query;
    if (route.after) {
        query += "&after=" + route.after->str();
    }
    if (route.token) {
        query += "&token=" + percent_encode(*route.token, false);
    }
    if (!query.empty()) {
        target += "?" + query.substr(1);
    }
    return target;
}

void check_route(std::string_view target, const Route& route) {
    if (target.empty() || target.front() != '/' || target.find('#') != std::string_view::npos) {
        FUZZ_CHECK(route.kind == RouteKind::BadRequest);
    }
    switch (route.kind) {
        case RouteKind::Page:
        case RouteKind::Events:
        case RouteKind::WebSocket:
        case RouteKind::State:
            FUZZ_CHECK(bscd::is_valid_project_name(route.project));
            FUZZ_CHECK(route.asset.empty() && route.error.empty());
            if (route.after) {
                FUZZ_CHECK(bscd::parse_event_id(route.after->str()) == route.after);
            }
            break;
        case RouteKind::Asset:
            FUZZ_CHECK(is_asset_name(route.asset));
            FUZZ_CHECK(route.project.empty() && route.error.empty());
            FUZZ_CHECK(!route.after && !route.token);
            break;
        case RouteKind::BuildsPage:
        case RouteKind::BuildsList:
            // A token only: `after` is a project route's.
            FUZZ_CHECK(route.project.empty() && route.asset.empty() && route.error.empty());
            FUZZ_CHECK(!route.after);
            break;
        case RouteKind::BadRequest:
            // The {"error": ...} body: short and printable.
            FUZZ_CHECK(!route.error.empty());
            FUZZ_CHECK(route.error.size() <= 200);
            FUZZ_CHECK(is_printable_ascii(route.error));
            FUZZ_CHECK(route.project.empty() && route.asset.empty());
            break;
        case RouteKind::Health:
        case RouteKind::Metrics:
        case RouteKind::NotFound:
            FUZZ_CHECK(route.project.empty() && route.asset.empty() && route.error.empty());
            FUZZ_CHECK(!route.after && !route.token);
            break;
    }
    // A route read back from the target that names it is the same route,
    // whether its name is written plainly or byte by byte as %XX.
    if (const std::string canonical = target_of(route, false); !canonical.empty()) {
        FUZZ_CHECK(same_route(bscd::parse_route(canonical), route));
        FUZZ_CHECK(same_route(bscd::parse_route(target_of(route, true)), route));
    }
}

void check_event_id(std::string_view text) {
    const std::optional<EntryId> id = bscd::parse_event_id(text);
    if (text == "0") {
        FUZZ_CHECK(id == (EntryId{0, 0}));
    }
    if (id) {
        FUZZ_CHECK(bscd::parse_event_id(id->str()) == id);
        FUZZ_CHECK(text.find_first_not_of("0123456789-") == std::string_view::npos);
    }
}

bool is_project_route(RouteKind kind) {
    return kind == RouteKind::Page || kind == RouteKind::Events || kind == RouteKind::WebSocket ||
           kind == RouteKind::State;
}

// The token check decide() is given: it records what it was asked.
struct TokenCheck {
    bool secret = false;  // with a secret, only the token "ok" is admitted
    int calls = 0;
    std::string project;
    std::string token;
    bool admitted = false;

    bool operator()(const std::string& p, std::string_view t) {
        ++calls;
        project = p;
        token = std::string(t);
        admitted = !secret || token == "ok";
        return admitted;
    }
};

void check_answer(const bscd::HttpRequest& request, const Route& route, const bscd::Answer& answer,
                  const TokenCheck& check) {
    const auto status = static_cast<unsigned>(answer.status);
    FUZZ_CHECK(status >= 400 && status < 500);
    // The {"error": ...} body: short and printable.
    FUZZ_CHECK(!answer.message.empty() && answer.message.size() <= 200);
    FUZZ_CHECK(is_printable_ascii(answer.message));
    // A 405 always says what is allowed, and nothing else does.
    FUZZ_CHECK((answer.status == http::status::method_not_allowed) == !answer.allow.empty());
    FUZZ_CHECK(answer.allow.empty() || answer.allow == "GET" || answer.allow == "GET, HEAD");
    FUZZ_CHECK((answer.status == http::status::upgrade_required) == answer.websocket_version);
    switch (answer.refusal) {
        case bscd::Refusal::Token:
            FUZZ_CHECK(answer.status == http::status::forbidden);
            FUZZ_CHECK(check.calls == 1 && !check.admitted);
            break;
        case bscd::Refusal::Origin:
            FUZZ_CHECK(answer.status == http::status::forbidden);
            FUZZ_CHECK(route.kind == RouteKind::WebSocket && check.admitted);
            FUZZ_CHECK(!request[http::field::origin].empty());
            break;
        case bscd::Refusal::Framing:
            // Before anything else, and the connection closes.
            FUZZ_CHECK(answer.status == http::status::bad_request && answer.close);
            FUZZ_CHECK(check.calls == 0);
            FUZZ_CHECK(answer.message == bscd::transfer_encoding_error(request));
            break;
        case bscd::Refusal::Rate:
        case bscd::Refusal::Full:
            // The limits' answers are HttpSession's (Admission), never decide()'s.
            FUZZ_CHECK(false);
            break;
        case bscd::Refusal::None:
            FUZZ_CHECK(answer.status != http::status::forbidden);
            break;
    }
    FUZZ_CHECK(!answer.retry_after);
    // Only a refused framing closes the connection.
    FUZZ_CHECK(answer.close == (answer.refusal == bscd::Refusal::Framing));
    if (answer.status == http::status::bad_request && route.kind == RouteKind::BadRequest &&
        answer.refusal != bscd::Refusal::Framing) {
        FUZZ_CHECK(answer.message == route.error);
    }
}

// What decide() may open or serve: a GET (HEAD for the plain resources) of
// the route's kind, and for a project only with an admitted token.
void check_granted(const bscd::HttpRequest& request, const Route& route, const TokenCheck& check,
                   bool stream) {
    const http::verb method = request.method();
    FUZZ_CHECK(method == http::verb::get || (!stream && method == http::verb::head));
    if (is_project_route(route.kind)) {
        FUZZ_CHECK(check.calls == 1 && check.admitted);
        FUZZ_CHECK(check.project == route.project);
        FUZZ_CHECK(check.token == bscd::presented_token(request, route));
        FUZZ_CHECK(!check.secret || check.token == "ok");
    } else {
        FUZZ_CHECK(!stream);
    }
}

void check_resume_point(const std::optional<EntryId>& after) {
    if (after) {
        FUZZ_CHECK(bscd::parse_event_id(after->str()) == after);
    }
}

void check_decision(const bscd::HttpRequest& request, const Route& route,
                    const bscd::GatewayOptions& options, bool secret) {
    TokenCheck check;
    check.secret = secret;
    const bscd::Decision decision =
        bscd::decide(request, route, options,
                     [&check](const std::string& p, std::string_view t) { return check(p, t); });
    // Tokens are checked for project routes only, once.
    FUZZ_CHECK(check.calls <= 1);
    FUZZ_CHECK(check.calls == 0 || is_project_route(route.kind));
    // A body whose framing is refused is refused first, whatever else.
    if (!bscd::transfer_encoding_error(request).empty()) {
        const auto* answer = std::get_if<bscd::Answer>(&decision);
        FUZZ_CHECK(answer != nullptr && answer->refusal == bscd::Refusal::Framing);
    }
    if (const auto* answer = std::get_if<bscd::Answer>(&decision)) {
        check_answer(request, route, *answer, check);
    } else if (std::holds_alternative<bscd::Preflight>(decision)) {
        FUZZ_CHECK(request.method() == http::verb::options && !options.allow_origins.empty());
        FUZZ_CHECK(check.calls == 0);
    } else if (const auto* serve = std::get_if<bscd::Serve>(&decision)) {
        check_granted(request, route, check, false);
        constexpr RouteKind kinds[] = {RouteKind::Health, RouteKind::Metrics, RouteKind::Asset,
                                       RouteKind::Page, RouteKind::State};
        FUZZ_CHECK(route.kind == kinds[static_cast<int>(serve->resource)]);
    } else if (const auto* events = std::get_if<bscd::OpenEvents>(&decision)) {
        FUZZ_CHECK(route.kind == RouteKind::Events);
        check_granted(request, route, check, true);
        check_resume_point(events->after);
        // The header wins; without it, ?after=.
        if (const auto header = request.find("Last-Event-ID"); header != request.end()) {
            FUZZ_CHECK(events->after && events->after == bscd::parse_event_id(header->value()));
        } else {
            FUZZ_CHECK(events->after == route.after);
        }
    } else if (const auto* socket = std::get_if<bscd::OpenWebSocket>(&decision)) {
        FUZZ_CHECK(route.kind == RouteKind::WebSocket);
        check_granted(request, route, check, true);
        check_resume_point(socket->after);
        FUZZ_CHECK(socket->after == route.after);
        // Beast's handshake would accept it, from an origin that may open one.
        FUZZ_CHECK(boost::beast::websocket::is_upgrade(request));
        FUZZ_CHECK(request[http::field::sec_websocket_version] == "13");
        FUZZ_CHECK(request[http::field::sec_websocket_key].size() == 24);
        FUZZ_CHECK(bscd::origin_may_open_websocket(request, options));
    }
}

// The configurations decide() is run under: no --allow-origin, one origin,
// any origin; each without and with a token secret.
const std::vector<bscd::GatewayOptions>& configurations() {
    static const std::vector<bscd::GatewayOptions> all = [] {
        std::vector<bscd::GatewayOptions> options(3);
        options[1].allow_origins = {"http://example.org"};
        options[2].allow_origins = {"*"};
        return options;
    }();
    return all;
}

// What HttpSession::handle does with a request, as far as it is pure.
void handle(const bscd::HttpRequest& request) {
    FUZZ_CHECK(request.body().size() <= bscd::HttpSession::body_limit);
    const std::string_view target = request.target();
    const Route route = bscd::parse_route(target);
    check_route(target, route);
    if (const auto header = request.find("Last-Event-ID"); header != request.end()) {
        check_event_id(header->value());
    }
    for (const auto& options : configurations()) {
        for (const bool secret : {false, true}) {
            check_decision(request, route, options, secret);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ChunkStream stream(bscd::fuzz::chunks_of(bscd::fuzz::as_text(data, size)));
    boost::beast::flat_buffer buffer;  // as the session's: kept across requests
    for (;;) {
        // HttpSession::read_request
        http::request_parser<http::string_body> parser;
        parser.header_limit(bscd::HttpSession::header_limit);
        parser.body_limit(bscd::HttpSession::body_limit);
        boost::system::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec) {
            // End of stream, or an error the session answers and then closes.
            return 0;
        }
        FUZZ_CHECK(parser.is_done());
        const bscd::HttpRequest request = parser.release();
        handle(request);
        // The session reads the next request only on a keep-alive connection
        // (it hands an event stream's connection over instead; the requests
        // after it are read here anyway: more to fuzz).
        if (!request.keep_alive() || !bscd::transfer_encoding_error(request).empty()) {
            return 0;  // a refused framing closes it too
        }
    }
}
