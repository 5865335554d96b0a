#include "core/redis_redirect.hpp"

#include <array>
#include <charconv>
#include <string>

#include "core/cluster_slot.hpp"

namespace bscd {
namespace {

// The error code: the text up to the first blank (all of it without one).
std::string_view first_word(std::string_view text) {
    return text.substr(0, text.find(' '));
}

template <std::size_t N>
bool first_word_is_one_of(std::string_view text, const std::array<std::string_view, N>& codes) {
    const auto code = first_word(text);
    for (const auto candidate : codes) {
        if (code == candidate) {
            return true;
        }
    }
    return false;
}

// A whole decimal number in [0, limit), without sign or blanks.
std::optional<unsigned> parse_below(std::string_view text, unsigned limit) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value >= limit) {
        return std::nullopt;
    }
    return value;
}

// "host:port" as Redis writes it in a redirection: the port follows the last
// colon, so an IPv6 address needs no brackets (Redis writes none).
std::optional<HostPort> parse_endpoint(std::string_view endpoint, std::string_view replying_host) {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string_view::npos || endpoint.find(' ') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = endpoint.substr(0, colon);
    const auto port = parse_below(endpoint.substr(colon + 1), 65536);
    if (!port || *port == 0) {
        return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host == "?") {
        return std::nullopt;
    }
    if (host.empty()) {
        host = replying_host;  // unknown endpoint: the node that answered, another port
    }
    if (host.empty()) {
        return std::nullopt;
    }
    return HostPort{std::string(host), static_cast<int>(*port)};
}

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view error_text,
                                       std::string_view replying_host) {
    const auto code = first_word(error_text);
    Redirect::Kind kind{};
    if (code == "MOVED") {
        kind = Redirect::Kind::Moved;
    } else if (code == "ASK") {
        kind = Redirect::Kind::Ask;
    } else {
        return std::nullopt;
    }
    std::string_view rest = error_text.substr(code.size());
    if (!rest.starts_with(' ')) {
        return std::nullopt;
    }
    rest.remove_prefix(1);
    const auto blank = rest.find(' ');
    if (blank == std::string_view::npos) {
        return std::nullopt;
    }
    const auto slot = parse_below(rest.substr(0, blank), cluster_slots);
    auto node = parse_endpoint(rest.substr(blank + 1), replying_host);
    if (!slot || !node) {
        return std::nullopt;
    }
    return Redirect{kind, static_cast<std::uint16_t>(*slot), std::move(*node)};
}

bool is_retry_elsewhere_error(std::string_view error_text) {
    static constexpr std::array<std::string_view, 3> codes{"READONLY", "MASTERDOWN", "LOADING"};
    return first_word_is_one_of(error_text, codes);
}

bool is_try_later_error(std::string_view error_text) {
    static constexpr std::array<std::string_view, 3> codes{"NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN"};
    return first_word_is_one_of(error_text, codes);
}

}  // namespace bscd
