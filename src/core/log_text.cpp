#include "core/log_text.hpp"

namespace bscd {

std::string quoted_for_log(std::string_view text, std::size_t max) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    const std::size_t limit = max + 1;  // the opening quote does not count
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool plain = byte >= 0x20 && byte <= 0x7e;
        const bool escaped = c == '"' || c == '\\';
        const std::size_t width = !plain ? 4 : escaped ? 2 : 1;
        if (out.size() + width > limit) {
            return out + "\"...(" + std::to_string(text.size()) + " bytes)";
        }
        if (!plain) {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0x0f];
        } else {
            if (escaped) {
                out += '\\';
            }
            out += c;
        }
    }
    return out + '"';
}

}  // namespace bscd
