#include "core/host_port.hpp"

#include <charconv>

namespace bscd {

std::string HostPort::str() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> HostPort::parse(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt;  // a bare IPv6 address is ambiguous: it needs [ ]
    }
    int port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (host.empty() || port_text.empty() || ec != std::errc() || ptr != end || port < 1 ||
        port > 65535) {
        return std::nullopt;
    }
    return HostPort{std::string(host), port};
}

std::optional<std::vector<HostPort>> parse_host_port_list(std::string_view text) {
    std::vector<HostPort> nodes;
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
            s.remove_prefix(1);
        }
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
            s.remove_suffix(1);
        }
        return s;
    };
    if (trim(text).empty()) {
        return nodes;
    }
    for (;;) {
        const auto comma = text.find(',');
        auto node = HostPort::parse(trim(text.substr(0, comma)));
        if (!node) {
            return std::nullopt;
        }
        nodes.push_back(std::move(*node));
        if (comma == std::string_view::npos) {
            return nodes;
        }
        text.remove_prefix(comma + 1);
    }
}

}  // namespace bscd
