#include "core/web_route.hpp"

#include <optional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "core/project.hpp"

namespace bscd {

// Readable failure messages; in bscd for argument-dependent lookup, and named
// as GoogleTest looks them up.
static void PrintTo(RouteKind kind, std::ostream* os) {  // NOLINT(readability-identifier-naming)
    static constexpr const char* names[] = {"Page",    "Asset",      "Events",     "WebSocket",
                                            "State",   "BuildsPage", "BuildsList", "Health",
                                            "Metrics", "NotFound",   "BadRequest"};
    *os << names[static_cast<int>(kind)];
}

static void PrintTo(const EntryId& id, std::ostream* os) {  // NOLINT(readability-identifier-naming)
    *os << id.str();
}

namespace {

struct Case {
    std::string target;
    RouteKind kind;
    std::string project;  // or the asset for Asset
};

void expect_routes(const Case& c) {
    SCOPED_TRACE(c.target);
    const Route route = parse_route(c.target);
    EXPECT_EQ(route.kind, c.kind) << route.error;
    if (c.kind == RouteKind::Asset) {
        EXPECT_EQ(route.asset, c.project);
        EXPECT_EQ(route.project, "");
    } else {
        EXPECT_EQ(route.project, c.project);
        EXPECT_EQ(route.asset, "");
    }
    if (c.kind == RouteKind::BadRequest) {
        EXPECT_FALSE(route.error.empty());
    } else {
        EXPECT_EQ(route.error, "");
    }
}

TEST(WebRoute, EveryListedRouteParsesToItsKind) {
    for (const RoutePattern& listed : web_routes) {
        std::string target(listed.path);
        for (const std::string_view placeholder : {"{project}", "{file}"}) {
            if (const auto at = target.find(placeholder); at != std::string::npos) {
                target.replace(at, placeholder.size(), "demo.js");
            }
        }
        SCOPED_TRACE(target);
        EXPECT_EQ(parse_route(target).kind, listed.kind);
        EXPECT_EQ(route_audience(listed.kind), listed.audience);
    }
    EXPECT_EQ(route_audience(RouteKind::NotFound), RouteAudience::Anyone);
    EXPECT_EQ(route_audience(RouteKind::BadRequest), RouteAudience::Anyone);
}

TEST(WebRoute, ProjectRoutePathsAreTheListedOnes) {
    EXPECT_EQ(project_route_path(RouteKind::Page, "demo"), "/projects/demo");
    EXPECT_EQ(project_route_path(RouteKind::Events, "demo"), "/api/v1/projects/demo/events");
    EXPECT_EQ(parse_route(project_route_path(RouteKind::WebSocket, "a.b")).kind,
              RouteKind::WebSocket);
    EXPECT_EQ(project_route_path(RouteKind::Health, "demo"), "") << "not a project route";
}

TEST(WebRoute, EveryKind) {
    const Case cases[] = {
        {"/api/v1/projects/demo/events", RouteKind::Events, "demo"},
        {"/api/v1/projects/demo/ws", RouteKind::WebSocket, "demo"},
        {"/api/v1/projects/demo", RouteKind::State, "demo"},
        {"/projects/demo", RouteKind::Page, "demo"},
        {"/assets/app.js", RouteKind::Asset, "app.js"},
        {"/assets/style.css", RouteKind::Asset, "style.css"},
        {"/healthz", RouteKind::Health, ""},
        {"/metrics", RouteKind::Metrics, ""},
        {"/builds", RouteKind::BuildsPage, ""},
        {"/api/v1/builds", RouteKind::BuildsList, ""},
        {"/builds/", RouteKind::NotFound, ""},
        {"/api/v1/builds/demo", RouteKind::NotFound, ""},
        {"/", RouteKind::NotFound, ""},
        {"/nothing-here", RouteKind::NotFound, ""},
        {"/projects", RouteKind::NotFound, ""},
        {"/api/v1/projects", RouteKind::NotFound, ""},
        {"/", RouteKind::NotFound, ""},
        {"", RouteKind::BadRequest, ""},
    };
    for (const Case& c : cases) {
        expect_routes(c);
    }
}

TEST(WebRoute, ProjectNames) {
    const std::string uuid = "4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90";  // Pieman's default
    const Case cases[] = {
        {"/projects/" + uuid, RouteKind::Page, uuid},
        {"/api/v1/projects/" + uuid + "/events", RouteKind::Events, uuid},
        {"/projects/my-project_1.2", RouteKind::Page, "my-project_1.2"},
        {"/projects/.hidden", RouteKind::Page, ".hidden"},
        {"/projects/" + std::string(128, 'x'), RouteKind::Page, std::string(128, 'x')},
        {"/api/v1/projects/" + std::string(128, 'x'), RouteKind::State, std::string(128, 'x')},
        // Percent-encoded letters are the same letters (RFC 3986).
        {"/projects/d%65mo", RouteKind::Page, "demo"},
        {"/projects/%64%45%6d%4F", RouteKind::Page, "dEmO"},
        {"/api/v1/projects/a%2eb/ws", RouteKind::WebSocket, "a.b"},
        // Fixed segments are decoded too.
        {"/%61pi/v1/projects/demo/%65vents", RouteKind::Events, "demo"},
        {"/%68ealthz", RouteKind::Health, ""},
    };
    for (const Case& c : cases) {
        expect_routes(c);
    }
}

TEST(WebRoute, HostileProjectNamesAreBadRequests) {
    const std::string bad[] = {
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "a..b",
        "a%2Fb",
        "a%2fb",
        "..%2F..%2Fetc",
        "%00",
        "demo%00",
        "a%0Ab",
        "a%0d%0aX-Injected:%201",
        std::string(129, 'x'),
        "caf\xc3\xa9",
        "caf%C3%A9",
        "%FF",
        "\xff",
        "a%20b",
        "a+b",
        "a%2Bb",
        "a;b",
        "a%5Cb",
        "a:b",
        "",
    };
    for (const std::string& name : bad) {
        for (const std::string& target :
             {"/projects/" + name, "/api/v1/projects/" + name,
              "/api/v1/projects/" + name + "/events", "/api/v1/projects/" + name + "/ws"}) {
            SCOPED_TRACE(target);
            const Route route = parse_route(target);
            EXPECT_EQ(route.kind, RouteKind::BadRequest);
            EXPECT_EQ(route.project, "");
            EXPECT_NE(route.error.find(project_name_rule), std::string::npos) << route.error;
        }
    }
}

TEST(WebRoute, InvalidEscapesAreBadRequests) {
    const std::string bad[] = {
        "/projects/%zz",
        "/projects/%4",
        "/projects/demo%",
        "/projects/%",
        "/projects/%%41",
        "/projects/%g0",
        "/api/v1/projects/%4/ws",
        "/assets/%zz",
        "/healthz%",
        "/unknown/path/%2",
        "/%",
    };
    for (const std::string& target : bad) {
        SCOPED_TRACE(target);
        const Route route = parse_route(target);
        EXPECT_EQ(route.kind, RouteKind::BadRequest);
        EXPECT_NE(route.error.find("percent-encoding"), std::string::npos) << route.error;
    }
}

TEST(WebRoute, NotAPathIsBadRequest) {
    const std::string bad[] = {
        "*",
        "http://example.com/projects/demo",
        "example.com:443",
        "projects/demo",
        " /projects/demo",
        "?after=0",
        "/projects/demo#top",
        "/projects/demo?after=0#x",
        "/#",
    };
    for (const std::string& target : bad) {
        SCOPED_TRACE(target);
        const Route route = parse_route(target);
        EXPECT_EQ(route.kind, RouteKind::BadRequest);
        EXPECT_FALSE(route.error.empty());
    }
}

TEST(WebRoute, PathsMatchExactly) {
    const Case cases[] = {
        {"/projects/demo/", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo/", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo/events/", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo/ws/", RouteKind::NotFound, ""},
        {"/healthz/", RouteKind::NotFound, ""},
        {"/metrics/", RouteKind::NotFound, ""},
        {"/assets/", RouteKind::NotFound, ""},
        {"/assets/app.js/", RouteKind::NotFound, ""},
        {"//healthz", RouteKind::NotFound, ""},
        {"/api//v1/projects/demo", RouteKind::NotFound, ""},
        {"/api/v2/projects/demo", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo/other", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo/events/more", RouteKind::NotFound, ""},
        {"/api/v1/project/demo", RouteKind::NotFound, ""},
        {"/Projects/demo", RouteKind::NotFound, ""},
        {"/HEALTHZ", RouteKind::NotFound, ""},
        {"/projects/demo/events", RouteKind::NotFound, ""},
        // An encoded slash never makes a segment, so this is no route at all.
        {"/projects%2Fdemo", RouteKind::NotFound, ""},
        {"/api%2Fv1/projects/demo", RouteKind::NotFound, ""},
        {"/api/v1/projects/demo%2Fevents", RouteKind::BadRequest, ""},
        // An empty name is a project route with an invalid name (see the header).
        {"/projects/", RouteKind::BadRequest, ""},
        {"/api/v1/projects/", RouteKind::BadRequest, ""},
        {"/api/v1/projects//events", RouteKind::BadRequest, ""},
        {"/api/v1/projects//ws", RouteKind::BadRequest, ""},
    };
    for (const Case& c : cases) {
        expect_routes(c);
    }
}

TEST(WebRoute, AssetNames) {
    const Case cases[] = {
        {"/assets/index.html", RouteKind::Asset, "index.html"},
        {"/assets/favicon.ico", RouteKind::Asset, "favicon.ico"},
        {"/assets/logo-2_x.svg", RouteKind::Asset, "logo-2_x.svg"},
        {"/assets/app%2Ejs", RouteKind::Asset, "app.js"},
        {"/assets/app.js?v=3", RouteKind::Asset, "app.js"},
        {"/assets/..", RouteKind::NotFound, ""},
        {"/assets/%2e%2e", RouteKind::NotFound, ""},
        {"/assets/a..js", RouteKind::NotFound, ""},
        {"/assets/..%2Fsrc%2Fmain.cpp", RouteKind::NotFound, ""},
        {"/assets/%2Fetc%2Fpasswd", RouteKind::NotFound, ""},
        {"/assets/../index.html", RouteKind::NotFound, ""},
        {"/assets/sub/app.js", RouteKind::NotFound, ""},
        {"/assets/app%00.js", RouteKind::NotFound, ""},
        {"/assets/app.js%20", RouteKind::NotFound, ""},
        {"/assets/caf%C3%A9.js", RouteKind::NotFound, ""},
        {"/assets/a+b.js", RouteKind::NotFound, ""},
    };
    for (const Case& c : cases) {
        expect_routes(c);
    }
}

TEST(WebRoute, AfterAndToken) {
    struct QueryCase {
        std::string target;
        std::optional<EntryId> after;
        std::optional<std::string> token;
    };
    const QueryCase cases[] = {
        {"/api/v1/projects/demo/events", std::nullopt, std::nullopt},
        {"/api/v1/projects/demo/events?", std::nullopt, std::nullopt},
        {"/api/v1/projects/demo/events?after=0", EntryId{0, 0}, std::nullopt},
        {"/api/v1/projects/demo/events?after=0-0", EntryId{0, 0}, std::nullopt},
        {"/api/v1/projects/demo/events?after=1763938454570-0", EntryId{1763938454570, 0},
         std::nullopt},
        {"/api/v1/projects/demo/ws?after=1763938454570-12", EntryId{1763938454570, 12},
         std::nullopt},
        {"/api/v1/projects/demo/events?after=5%2D1", EntryId{5, 1}, std::nullopt},
        {"/projects/demo?token=abc123", std::nullopt, "abc123"},
        {"/api/v1/projects/demo?token=a%2Bb", std::nullopt, "a+b"},
        {"/api/v1/projects/demo?token=a+b", std::nullopt, "a b"},
        {"/api/v1/projects/demo?token=a%20b%00c", std::nullopt, std::string("a b\0c", 5)},
        {"/api/v1/projects/demo?token=", std::nullopt, ""},
        {"/api/v1/projects/demo?token", std::nullopt, ""},
        {"/api/v1/projects/demo?token=a=b", std::nullopt, "a=b"},
        {"/api/v1/projects/demo/events?after=2-0&token=t", EntryId{2, 0}, "t"},
        {"/api/v1/projects/demo/events?token=t&after=2-0", EntryId{2, 0}, "t"},
        // Keys are decoded too.
        {"/api/v1/projects/demo/events?%61fter=3-0&tok%65n=t", EntryId{3, 0}, "t"},
        // Unknown parameters are ignored, whatever they hold.
        {"/api/v1/projects/demo/events?x=1&after=2-0&_=%zz&%zz=1&&", EntryId{2, 0}, std::nullopt},
        {"/api/v1/projects/demo/events?After=bad&TOKEN=x", std::nullopt, std::nullopt},
        // Repeated keys: the last one wins, and only it is checked.
        {"/api/v1/projects/demo/events?after=1-0&after=2-0", EntryId{2, 0}, std::nullopt},
        {"/api/v1/projects/demo/events?after=bad&after=2-0", EntryId{2, 0}, std::nullopt},
        {"/api/v1/projects/demo?token=a&token=b", std::nullopt, "b"},
        {"/api/v1/projects/demo?token=%zz&token=b", std::nullopt, "b"},
    };
    for (const QueryCase& c : cases) {
        SCOPED_TRACE(c.target);
        const Route route = parse_route(c.target);
        EXPECT_NE(route.kind, RouteKind::BadRequest) << route.error;
        EXPECT_EQ(route.project, "demo");
        EXPECT_EQ(route.after, c.after);
        EXPECT_EQ(route.token, c.token);
    }
}

TEST(WebRoute, InvalidQueryIsBadRequest) {
    const std::string bad[] = {
        "/api/v1/projects/demo/events?after=",
        "/api/v1/projects/demo/events?after",
        "/api/v1/projects/demo/events?after=bad",
        "/api/v1/projects/demo/events?after=1763938454570",
        "/api/v1/projects/demo/events?after=-1",
        "/api/v1/projects/demo/events?after=1-",
        "/api/v1/projects/demo/events?after=1-2-3",
        "/api/v1/projects/demo/events?after=+1-0",
        "/api/v1/projects/demo/events?after=1-0+",
        "/api/v1/projects/demo/events?after=%201-0",
        "/api/v1/projects/demo/events?after=18446744073709551616-0",
        "/api/v1/projects/demo/events?after=%zz",
        "/api/v1/projects/demo/events?after=%4",
        "/api/v1/projects/demo/ws?after=2-0&after=x",
        "/projects/demo?after=now",
        "/api/v1/projects/demo?token=%zz",
        "/api/v1/projects/demo?token=abc%",
        "/api/v1/projects/demo?token=ok&token=%g1",
    };
    for (const std::string& target : bad) {
        SCOPED_TRACE(target);
        const Route route = parse_route(target);
        EXPECT_EQ(route.kind, RouteKind::BadRequest);
        EXPECT_EQ(route.project, "");
        EXPECT_FALSE(route.after.has_value());
        EXPECT_FALSE(route.token.has_value());
        EXPECT_FALSE(route.error.empty());
    }
}

TEST(WebRoute, QueryOfRoutesWithoutParametersIsIgnored) {
    const Case cases[] = {
        {"/healthz?after=bad", RouteKind::Health, ""},
        {"/metrics?token=%zz", RouteKind::Metrics, ""},
        {"/assets/app.js?after=x&token=%", RouteKind::Asset, "app.js"},
        {"/nowhere?after=bad", RouteKind::NotFound, ""},
    };
    for (const Case& c : cases) {
        expect_routes(c);
        const Route route = parse_route(c.target);
        EXPECT_FALSE(route.after.has_value());
        EXPECT_FALSE(route.token.has_value());
    }
}

TEST(WebRoute, TheBuildsRoutesReadATokenOnly) {
    Route route = parse_route("/api/v1/builds?token=a%2Bb&after=not-an-id");
    EXPECT_EQ(route.kind, RouteKind::BuildsList) << route.error;
    EXPECT_EQ(route.token, "a+b");
    EXPECT_FALSE(route.after.has_value());
    route = parse_route("/builds?token=%zz");
    EXPECT_EQ(route.kind, RouteKind::BadRequest);
    EXPECT_EQ(route.error, "invalid percent-encoding in token");
}

TEST(WebRoute, ProjectIsDecodedButQueryCharactersAreNotPath) {
    // '?' ends the path: the name is "demo", not "demo?x".
    const Route route = parse_route("/projects/demo?x/y");
    EXPECT_EQ(route.kind, RouteKind::Page);
    EXPECT_EQ(route.project, "demo");
    // An encoded '?' stays in the name, which makes it invalid.
    EXPECT_EQ(parse_route("/projects/demo%3Fx").kind, RouteKind::BadRequest);
}

TEST(WebRoute, ErrorsArePrintableAndShort) {
    const std::string hostile[] = {
        "/projects/a%0d%0aSet-Cookie:%20x",
        "/projects/%00%01%02",
        "/projects/" + std::string(4000, 'y'),
        "/api/v1/projects/demo/events?after=%0d%0a" + std::string(4000, 'z'),
        "/projects/caf\xc3\xa9",
    };
    for (const std::string& target : hostile) {
        SCOPED_TRACE(target.substr(0, 60));
        const Route route = parse_route(target);
        ASSERT_EQ(route.kind, RouteKind::BadRequest);
        EXPECT_LT(route.error.size(), 200U) << route.error;
        for (const char c : route.error) {
            EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << route.error;
        }
    }
}

TEST(WebRoute, ErrorsNameWhatIsWrong) {
    EXPECT_EQ(parse_route("/projects/a%2Fb").error,
              "invalid project name \"a/b\": " + std::string(project_name_rule));
    EXPECT_NE(parse_route("/api/v1/projects/demo/events?after=x").error.find("after"),
              std::string::npos);
    EXPECT_NE(parse_route("/projects/%zz").error.find("path"), std::string::npos);
    EXPECT_NE(parse_route("/projects/demo?token=%zz").error.find("token"), std::string::npos);
}

TEST(WebRoute, ParseEventId) {
    EXPECT_EQ(parse_event_id("0"), (EntryId{0, 0}));
    EXPECT_EQ(parse_event_id("0-0"), (EntryId{0, 0}));
    EXPECT_EQ(parse_event_id("1763938454570-0"), (EntryId{1763938454570, 0}));
    EXPECT_EQ(parse_event_id("1763938454570-7"), (EntryId{1763938454570, 7}));
    const char* const invalid[] = {"",     "00",   "1",  "1763938454570", "-",     "1-",  "-1",
                                   "x",    " 0",   "0 ", "1-0 ",          "1-0\r", "%30", "+0",
                                   "1-+0", "1-2-3"};
    for (const char* text : invalid) {
        SCOPED_TRACE(text);
        EXPECT_EQ(parse_event_id(text), std::nullopt);
    }
}

}  // namespace
}  // namespace bscd
