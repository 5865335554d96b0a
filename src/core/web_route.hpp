#pragma once
// Where an HTTP request target goes in bscd-gateway (docs/gateway.md,
// "Endpoints"). Pure: the gateway answers from the Route, this only reads the
// target as it appears in the request line.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/entry_id.hpp"

namespace bscd {

enum class RouteKind {
    Page,
    Asset,
    Events,
    WebSocket,
    State,
    BuildsPage,  // the operator's live list of builds
    BuildsList,  // the same as JSON
    Health,
    Metrics,
    NotFound,
    BadRequest
};

// Who a route is for: what its query carries and who may have it.
enum class RouteAudience {
    Anyone,    // no parameters: health, metrics, assets (and the errors)
    Project,   // ?after= and ?token=: a project's token, when tokens are on
    Operator,  // ?token=: the operator's token, when tokens are on
};

// One of the gateway's routes: its path, where "{project}" and "{file}"
// stand for one segment each.
struct RoutePattern {
    std::string_view path;
    RouteKind kind;
    RouteAudience audience;
};

// The gateway's routes: the one list that parse_route() matches, the
// request decision sorts by audience, and links are made from.
inline constexpr std::array<RoutePattern, 9> web_routes{{
    {"/api/v1/projects/{project}/events", RouteKind::Events, RouteAudience::Project},
    {"/api/v1/projects/{project}/ws", RouteKind::WebSocket, RouteAudience::Project},
    {"/api/v1/projects/{project}", RouteKind::State, RouteAudience::Project},
    {"/projects/{project}", RouteKind::Page, RouteAudience::Project},
    {"/api/v1/builds", RouteKind::BuildsList, RouteAudience::Operator},
    {"/builds", RouteKind::BuildsPage, RouteAudience::Operator},
    {"/assets/{file}", RouteKind::Asset, RouteAudience::Anyone},
    {"/healthz", RouteKind::Health, RouteAudience::Anyone},
    {"/metrics", RouteKind::Metrics, RouteAudience::Anyone},
}};

// The row of web_routes for `kind`; null for NotFound and BadRequest.
const RoutePattern* route_pattern(RouteKind kind);

// The audience of a kind of route (Anyone for NotFound and BadRequest).
RouteAudience route_audience(RouteKind kind);

// The path of a project route, e.g. "/projects/demo" for Page. Project
// names need no escaping (is_valid_project_name).
std::string project_route_path(RouteKind kind, std::string_view project);

struct Route {
    RouteKind kind = RouteKind::NotFound;
    // Page, Events, WebSocket, State: percent-decoded and is_valid_project_name.
    std::string project;
    // Asset: the file name after /assets/, e.g. "app.js".
    std::string asset;
    // Page, Events, WebSocket, State: ?after=ID; "0" (from the start) is EntryId{0, 0}.
    std::optional<EntryId> after;
    // Page, Events, WebSocket, State, BuildsPage, BuildsList: ?token=...,
    // percent-decoded ('+' is a space).
    std::optional<std::string> token;
    // BadRequest: a short, printable reason for the {"error": ...} body.
    std::string error;
};

// Reads a request target (origin-form: path, then optionally '?' and query)
// against web_routes.
//
// The path is split on '/' first and each segment percent-decoded after, so
// an encoded "%2F" never makes a new segment: in a project name it is an
// invalid name. Paths are matched exactly: a trailing slash, an empty segment
// or any other path is NotFound.
//
// BadRequest (400), with `error` saying why:
// - a target that is not a path (absolute-form, authority-form, "*"), or has
//   a fragment ('#');
// - an invalid percent escape ("%zz", "%4") in any path segment;
// - a project name that is not is_valid_project_name after decoding ("..",
//   "%2e%2e", "a%2Fb", "%00", non-ASCII bytes, over 128 characters), including
//   an empty one: "/projects/" and "/api/v1/projects//events" are a project
//   route with an invalid (empty) name, so 400 as the spec says for every
//   name outside the rule, not 404;
// - on a project route, an `after` that is not "0" or "<ms>-<seq>" (an empty
//   one too), or an invalid percent escape in the value of `after` or `token`.
//
// An asset name outside [A-Za-z0-9._-]+ or containing ".." is NotFound: no
// such asset can exist, and the name reveals nothing about a project.
//
// Query (Project and Operator routes only; the other routes take no parameters
// and ignore theirs): parameters split on '&', each "key=value" ("key" alone
// has an empty value); keys and values are percent-decoded with '+' as a
// space; `after` (project routes) and `token` are read, other keys ignored
// whatever they contain; a repeated key: the last one wins, and only it is
// checked.
Route parse_route(std::string_view target);

// Reads a Last-Event-ID header value the same way as ?after=: "0" or
// "<ms>-<seq>"; nullopt when invalid (an empty value too: the caller decides
// whether that means "no header").
std::optional<EntryId> parse_event_id(std::string_view text);

}  // namespace bscd
