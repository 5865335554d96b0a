#pragma once
// The page's files (share/web/), compiled into bscd-gateway by
// cmake/EmbedWebAssets.cmake so that the program is one file to install and
// always serves the page it was built with.

#include <string_view>

namespace bscd {

struct WebAsset {
    std::string_view name;          // file name in share/web, e.g. "app.js"
    std::string_view content_type;  // by extension, see web_content_type()
    std::string_view body;          // the file's bytes, exactly
};

// The asset named `name` ("index.html", "app.js", "style.css", ...), or nullptr.
const WebAsset* find_web_asset(std::string_view name);

// The Content-Type for a file name, by its extension: .html, .js, .css (UTF-8
// text), .svg, .png, .ico; "application/octet-stream" for anything else.
std::string_view web_content_type(std::string_view name);

}  // namespace bscd
