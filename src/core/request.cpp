#include "core/request.hpp"

#include <algorithm>
#include <utility>

namespace bscd {

namespace {

// A value request has at most as many digits as Catalog::max_value, so that
// it never overflows; longer digit strings are unknown codes.
constexpr std::size_t max_value_digits = 9;
static_assert(Catalog::max_value == 999'999'999, "max_value_digits must match max_value");

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name(std::string_view text) {
    return !text.empty() && is_name_start(text.front()) &&
           std::all_of(text.begin(), text.end(),
                       [](char c) { return is_name_start(c) || is_digit(c); });
}

bool is_number(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

Request invalid(std::string reason) {
    return Request{Request::Kind::Invalid, nullptr, std::move(reason)};
}

}  // namespace

Request parse_request(std::string_view text, const Catalog& catalog) {
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return invalid("empty request");
    }
    if (text.size() > max_request_length) {
        return too_long_request();
    }
    if (text == "EXIT") {
        return Request{Request::Kind::Exit, nullptr, {}};
    }
    if (is_number(text)) {
        const StatusCode* code = nullptr;
        if (text.size() <= max_value_digits) {
            int value = 0;
            for (char c : text) {
                value = value * 10 + (c - '0');
            }
            code = catalog.find(value);
        }
        if (code == nullptr) {
            return invalid("unknown code " + printable(text));
        }
        return Request{Request::Kind::Code, code, {}};
    }
    if (is_name(text)) {
        const StatusCode* code = catalog.find(text);
        if (code == nullptr) {
            return invalid("unknown code name " + printable(text));
        }
        return Request{Request::Kind::Code, code, {}};
    }
    return invalid("not a request: " + printable(text));
}

Request too_long_request() {
    return invalid("request too long");
}

std::string printable(std::string_view text, std::size_t limit) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(text.size(), limit) + 3);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const bool plain = byte >= 0x20 && byte <= 0x7e;
        if (out.size() + (plain ? 1 : 4) > limit) {
            out += "...";
            return out;
        }
        if (plain) {
            out += static_cast<char>(byte);
        } else {
            out += '\\';
            out += 'x';
            out += hex[byte >> 4];
            out += hex[byte & 0x0f];
        }
    }
    return out;
}

}  // namespace bscd
