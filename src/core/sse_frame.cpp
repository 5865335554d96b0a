#include "core/sse_frame.hpp"

namespace bscd {
namespace {

void append_single_line(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (c != '\r' && c != '\n' && c != '\0') {
            out.push_back(c);
        }
    }
}

}  // namespace

std::string sse_event(std::string_view id, std::string_view type, std::string_view data) {
    std::string out;
    out.reserve(id.size() + type.size() + data.size() + 32);
    if (!id.empty()) {
        out += "id: ";
        append_single_line(out, id);
        out += "\n";
    }
    out += "event: ";
    append_single_line(out, type);
    out += "\ndata: ";
    for (std::size_t i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') {
                ++i;  // CRLF is one line break
            }
            out += "\ndata: ";
        } else if (c != '\0') {
            out.push_back(c);
        }
    }
    out += "\n\n";
    return out;
}

std::string sse_comment(std::string_view text) {
    std::string out = ": ";
    append_single_line(out, text);
    out += "\n\n";
    return out;
}

}  // namespace bscd
