// The gateway's routes are one list, web_routes (core/web_route.hpp). The
// pages' HTML and scripts and the endpoint table of docs/gateway.md are
// written by hand; these tests hold them to that list, so that a route
// moved there and not here fails the build's tests, not a viewer's browser.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/web_route.hpp"
#include "gateway/web_assets.hpp"

namespace bscd {
namespace {

std::string path_of(RouteKind kind) {
    const RoutePattern* route = route_pattern(kind);
    if (route == nullptr) {
        ADD_FAILURE() << "no route of kind " << static_cast<int>(kind);
        return {};
    }
    return std::string(route->path);
}

// `to` as a page at `from` names it: relative to from's directory, as the
// pages do, so that they work behind a proxy's path prefix.
std::string relative(std::string_view from, std::string_view to) {
    std::string up;
    for (std::size_t slash = from.find('/', 1); slash != std::string_view::npos;
         slash = from.find('/', slash + 1)) {
        up += "../";
    }
    return up + std::string(to.substr(1));
}

// `path` with its "{project}" or "{file}" segment filled in.
std::string fill(std::string path, std::string_view placeholder, std::string_view value) {
    const auto at = path.find(placeholder);
    if (at != std::string::npos) {
        path.replace(at, placeholder.size(), value);
    }
    return path;
}

std::string_view asset(const char* name) {
    const WebAsset* found = find_web_asset(name);
    return found != nullptr ? found->body : std::string_view{};
}

TEST(WebRoutesFollowed, TheProjectPageFindsItsEventsAndAssets) {
    const std::string page = path_of(RouteKind::Page);
    // app.js: apiUrl(suffix) appends the suffix to the state's path.
    const std::string state = path_of(RouteKind::State);
    const std::string events = path_of(RouteKind::Events);
    ASSERT_EQ(events.rfind(state, 0), 0u) << events;
    const std::string base =
        fill(relative(page, state), "{project}", "${encodeURIComponent(state.project)}");
    EXPECT_NE(asset("app.js").find("`" + base + "${suffix}`"), std::string_view::npos) << base;
    EXPECT_NE(asset("app.js").find("apiUrl('" + events.substr(state.size()) + "'"),
              std::string_view::npos);
    for (const char* file : {"favicon.svg", "base.css", "style.css", "app.js"}) {
        const std::string href = relative(page, fill(path_of(RouteKind::Asset), "{file}", file));
        EXPECT_NE(asset("index.html").find('"' + href + '"'), std::string_view::npos) << href;
    }
}

TEST(WebRoutesFollowed, TheBuildsPageFindsItsListAndAssets) {
    const std::string page = path_of(RouteKind::BuildsPage);
    const std::string list = relative(page, path_of(RouteKind::BuildsList));
    EXPECT_NE(asset("builds.js").find("`" + list + "$"), std::string_view::npos) << list;
    for (const char* file : {"base.css", "builds.css", "builds.js"}) {
        const std::string href = relative(page, fill(path_of(RouteKind::Asset), "{file}", file));
        EXPECT_NE(asset("builds.html").find('"' + href + '"'), std::string_view::npos) << href;
    }
}

// docs/gateway.md's table under "## Endpoints": one `GET <path>` row per
// route, in the list's order.
TEST(WebRoutesFollowed, TheGatewayGuideListsEveryRoute) {
    std::ifstream guide(std::string(BSCD_SOURCE_DIR) + "/docs/gateway.md");
    ASSERT_TRUE(guide.is_open());
    std::vector<std::string> documented;
    bool in_endpoints = false;
    for (std::string line; std::getline(guide, line);) {
        if (line.rfind("## ", 0) == 0) {
            in_endpoints = line == "## Endpoints";
        }
        const std::string_view row = "| `GET ";
        if (in_endpoints && line.rfind(row, 0) == 0) {
            const auto end = line.find('`', row.size());
            documented.push_back(line.substr(row.size(), end - row.size()));
        }
    }
    std::vector<std::string> routes;
    routes.reserve(web_routes.size());
    for (const RoutePattern& route : web_routes) {
        routes.emplace_back(route.path);
    }
    EXPECT_EQ(documented, routes);
}

}  // namespace
}  // namespace bscd
