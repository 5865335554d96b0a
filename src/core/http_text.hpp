#pragma once
// Small pieces of HTTP's text syntax (RFC 9110), shared by the parts that
// read header values.

#include <string_view>

namespace bscd {

// `text` without the optional whitespace (spaces and tabs) around it.
inline std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace bscd
