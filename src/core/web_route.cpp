#include "core/web_route.hpp"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/project.hpp"
#include "core/request.hpp"

namespace bscd {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// RFC 3986 percent-decoding; nullopt for a '%' without two hex digits after
// it. `plus_is_space`: HTML forms encode spaces in queries as '+'.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (text.size() - i < 3) {
                return std::nullopt;
            }
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto end = text.find(separator);
        parts.push_back(text.substr(0, end));
        if (end == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(end + 1);
    }
}

bool is_valid_asset_name(std::string_view name) {
    if (name.empty() || name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

Route bad_request(std::string error) {
    Route route;
    route.kind = RouteKind::BadRequest;
    route.error = std::move(error);
    return route;
}

// Whether the decoded path's `segments` are those of `pattern`; fills the
// segment "{project}" or "{file}" stands for into `route`.
bool matches(const RoutePattern& pattern, const std::vector<std::string>& segments, Route& route) {
    const std::vector<std::string_view> wanted = split(pattern.path.substr(1), '/');
    if (wanted.size() != segments.size()) {
        return false;
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (wanted[i] == "{project}") {
            route.project = segments[i];
        } else if (wanted[i] == "{file}") {
            if (!is_valid_asset_name(segments[i])) {
                return false;
            }
            route.asset = segments[i];
        } else if (wanted[i] != segments[i]) {
            return false;
        }
    }
    route.kind = pattern.kind;
    return true;
}

// The route a decoded path names, before its project name and query are
// checked; `project` is set for the project routes.
Route match_path(const std::vector<std::string>& segments) {
    for (const RoutePattern& pattern : web_routes) {
        Route route;
        if (matches(pattern, segments, route)) {
            return route;
        }
    }
    return Route{};
}

// Reads `token` (and with `with_after`, `after`) from the query into
// `route`, which becomes a BadRequest when either is invalid.
void read_query(std::string_view query, bool with_after, Route& route) {
    std::optional<std::string_view> after;
    std::optional<std::string_view> token;
    for (const std::string_view parameter : split(query, '&')) {
        if (parameter.empty()) {
            continue;
        }
        const auto equals = parameter.find('=');
        const auto key = percent_decode(parameter.substr(0, equals), true);
        const std::string_view value =
            equals == std::string_view::npos ? std::string_view{} : parameter.substr(equals + 1);
        // A key that does not decode is not one of ours: ignored like any other.
        if (key == "after" && with_after) {
            after = value;
        } else if (key == "token") {
            token = value;
        }
    }
    if (after) {
        const auto text = percent_decode(*after, true);
        if (!text) {
            route = bad_request("invalid percent-encoding in after");
            return;
        }
        route.after = parse_event_id(*text);
        if (!route.after) {
            route = bad_request("invalid after \"" + printable(*text) +
                                "\": expected 0 or an event id such as 1763938454570-0");
            return;
        }
    }
    if (token) {
        route.token = percent_decode(*token, true);
        if (!route.token) {
            route = bad_request("invalid percent-encoding in token");
        }
    }
}

}  // namespace

const RoutePattern* route_pattern(RouteKind kind) {
    const auto* row =
        std::find_if(web_routes.begin(), web_routes.end(),
                     [kind](const RoutePattern& route) { return route.kind == kind; });
    return row != web_routes.end() ? row : nullptr;
}

RouteAudience route_audience(RouteKind kind) {
    const RoutePattern* row = route_pattern(kind);
    return row != nullptr ? row->audience : RouteAudience::Anyone;
}

std::string project_route_path(RouteKind kind, std::string_view project) {
    const RoutePattern* row = route_pattern(kind);
    if (row == nullptr || row->audience != RouteAudience::Project) {
        return {};
    }
    std::string path(row->path);
    const std::string_view placeholder = "{project}";
    path.replace(path.find(placeholder), placeholder.size(), project);
    return path;
}

Route parse_route(std::string_view target) {
    if (target.empty() || target.front() != '/') {
        return bad_request("request target is not a path");
    }
    // Browsers never send fragments; one here is a confused or hostile client.
    if (target.find('#') != std::string_view::npos) {
        return bad_request("fragment in request target");
    }
    const auto question = target.find('?');
    const std::string_view path = target.substr(
        1, question == std::string_view::npos ? std::string_view::npos : question - 1);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

    std::vector<std::string> segments;
    for (const std::string_view raw : split(path, '/')) {
        auto segment = percent_decode(raw, false);
        if (!segment) {
            return bad_request("invalid percent-encoding in path");
        }
        segments.push_back(std::move(*segment));
    }

    Route route = match_path(segments);
    switch (route_audience(route.kind)) {
        case RouteAudience::Project:
            if (!is_valid_project_name(route.project)) {
                return bad_request("invalid project name \"" + printable(route.project) +
                                   "\": " + std::string(project_name_rule));
            }
            read_query(query, true, route);
            return route;
        case RouteAudience::Operator:
            read_query(query, false, route);
            return route;
        case RouteAudience::Anyone:
            return route;
    }
    return route;
}

std::optional<EntryId> parse_event_id(std::string_view text) {
    if (text == "0") {
        return EntryId{0, 0};
    }
    return EntryId::parse(text);
}

}  // namespace bscd
