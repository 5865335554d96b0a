#include "gateway/web_assets.hpp"

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(WebAssets, PageAndItsAssetsAreEmbedded) {
    const WebAsset* index = find_web_asset("index.html");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->name, "index.html");
    EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
    EXPECT_NE(index->body.find('<'), std::string_view::npos);

    const WebAsset* app = find_web_asset("app.js");
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->content_type, "text/javascript; charset=utf-8");
    EXPECT_FALSE(app->body.empty());

    const WebAsset* style = find_web_asset("style.css");
    ASSERT_NE(style, nullptr);
    EXPECT_EQ(style->content_type, "text/css; charset=utf-8");
    EXPECT_FALSE(style->body.empty());
}

TEST(WebAssets, UnknownNamesAreNotFound) {
    const char* const unknown[] = {"",
                                   "missing.js",
                                   "INDEX.HTML",
                                   "index.htm",
                                   "index.html ",
                                   "/index.html",
                                   "../index.html",
                                   "CMakeLists.txt",
                                   "index.html/"};
    for (const char* name : unknown) {
        EXPECT_EQ(find_web_asset(name), nullptr) << name;
    }
}

TEST(WebAssets, ContentTypeByExtension) {
    struct Case {
        const char* name;
        const char* type;
    };
    const Case cases[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"logo.svg", "image/svg+xml"},
        {"logo.png", "image/png"},
        {"favicon.ico", "image/x-icon"},
        {"data.json", "application/octet-stream"},
        {"app.js.map", "application/octet-stream"},
        {"README", "application/octet-stream"},
        {"page.HTML", "application/octet-stream"},
        {"html", "application/octet-stream"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(web_content_type(c.name), c.type) << c.name;
    }
}

}  // namespace
}  // namespace bscd
