#pragma once
// What bscd-gateway does with one whole HTTP request (docs/gateway.md,
// "Endpoints" and "Access"), decided without any I/O: which error to answer,
// what to serve, or which event stream to open from which resume point.
// HttpSession carries the decision out; the fuzzer and the unit tests call it
// directly.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/entry_id.hpp"
#include "core/web_route.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/responses.hpp"

namespace bscd {

// Why a request was refused, for the log line (which names the peer).
enum class Refusal {
    None,
    Token,    // no token, or not the project's (or the operator's)
    Origin,   // a WebSocket from an origin not allowed
    Framing,  // a body whose framing is refused (transfer_encoding_error)
    Rate,     // the client is over --client-rate (over_rate_answer)
    Full,     // the project has --max-project-viewers viewers (project_full_answer)
};

// An error: {"error": message} with `status`.
struct Answer {
    http::status status = http::status::ok;
    std::string message;
    std::string allow;               // a 405's Allow header; empty otherwise
    bool websocket_version = false;  // a 426: Sec-WebSocket-Version: 13
    Refusal refusal = Refusal::None;
    // The connection closes after the answer, whatever the request asked:
    // its framing cannot be trusted, so what follows is not read as the next
    // request (RFC 9112 6.3).
    bool close = false;
    std::optional<std::chrono::seconds> retry_after;  // a 429's or 503's Retry-After
};

// The answer to a CORS pre-flight request.
struct Preflight {};

// What is served from the gateway itself. The route names the asset or the
// project; Health and Asset still depend on the gateway (Redis, the assets).
enum class Resource { Health, Metrics, Asset, Page, State, BuildsPage, BuildsList };
struct Serve {
    Resource resource = Resource::Health;
};

// An event stream of the route's project, after `after` (nullopt: the whole
// history).
struct OpenEvents {
    std::optional<EntryId> after;
};
struct OpenWebSocket {
    std::optional<EntryId> after;
};

using Decision = std::variant<Answer, Preflight, Serve, OpenEvents, OpenWebSocket>;

// Whether a token lets its bearer see a scope (Gateway::admits): a project,
// or operator_scope for the list of builds.
using Admits = std::function<bool(const std::string& scope, std::string_view token)>;

// The decision for `request`, whose target `route` is (parse_route). In this
// order: a body whose framing cannot be trusted (400, and the connection
// closes: transfer_encoding_error), OPTIONS pre-flight (with
// --allow-origin), methods other than GET and HEAD (405), the route's own
// errors (400, 404), the token of a project route or of the builds routes
// (403), streams asked for with HEAD (405), then per stream: Last-Event-ID
// over ?after= (400 when malformed); the WebSocket upgrade, version 13
// (426), Sec-WebSocket-Key (400) and Origin (403). `admits` is asked for
// project and builds routes only.
Decision decide(const HttpRequest& request, const Route& route, const GatewayOptions& options,
                const Admits& admits);

// The answers of the limits (gateway/admission.hpp), which HttpSession asks
// before and after decide(): a client over --client-rate (429), a new viewer
// of a project with all its --max-project-viewers seats taken (503). The
// connection stays open (behind a proxy it carries other clients' requests
// too); Retry-After says when to come back.
Answer over_rate_answer(std::chrono::seconds retry_after);
Answer project_full_answer(const std::string& project, std::size_t seats,
                           std::chrono::seconds retry_after);

// Why the framing of `request`'s body cannot be trusted (RFC 9112 6.1 and
// 6.3), or empty when it can: no Transfer-Encoding, or one whose codings
// (all its fields, in order) end in chunked, named once, without
// Content-Length, in HTTP/1.1. Beast reads a chunked body only then; for
// anything else it reads no body (or Content-Length's), and the body's bytes
// would be taken for the next request.
std::string transfer_encoding_error(const HttpRequest& request);

// The token from ?token= (when not empty) or "Authorization: Bearer <token>";
// empty when there is none.
std::string presented_token(const HttpRequest& request, const Route& route);

// Whether `request`'s Origin may open a WebSocket: none (not a browser), one
// that --allow-origin lets in, or the gateway's own host.
bool origin_may_open_websocket(const HttpRequest& request, const GatewayOptions& options);

}  // namespace bscd
