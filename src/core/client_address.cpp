#include "core/client_address.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>

#include "core/http_text.hpp"

namespace bscd {
namespace {

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool IpAddress::is_v4() const {
    return std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes.begin());
}

std::string IpAddress::to_string() const {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const bool ok = is_v4() ? inet_ntop(AF_INET, bytes.data() + 12, text.data(), text.size())
                            : inet_ntop(AF_INET6, bytes.data(), text.data(), text.size());
    return ok ? std::string(text.data()) : std::string("?");
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
    text = trim_ows(text);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    const std::string terminated(text);  // inet_pton wants a C string
    IpAddress address;
    if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data() + 12) == 1) {
        std::copy(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), address.bytes.begin());
        return address;
    }
    if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) == 1) {
        return address;
    }
    return std::nullopt;
}

bool IpNetwork::contains(const IpAddress& candidate) const {
    unsigned bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= std::min(bits, 8U)) {
        const unsigned take = std::min(bits, 8U);
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
        if ((address.bytes[i] & mask) != (candidate.bytes[i] & mask)) {
            return false;
        }
    }
    return true;
}

std::string IpNetwork::to_string() const {
    return address.to_string() + "/" + std::to_string(address.is_v4() ? prefix - 96 : prefix);
}

std::optional<IpNetwork> parse_ip_network(std::string_view text) {
    text = trim_ows(text);
    const auto slash = text.find('/');
    const auto address = parse_ip_address(text.substr(0, slash));
    if (!address) {
        return std::nullopt;
    }
    const unsigned family_bits = address->is_v4() ? 32 : 128;
    unsigned bits = family_bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
            bits > family_bits) {
            return std::nullopt;
        }
    }
    IpNetwork network{*address, address->is_v4() ? bits + 96 : bits};
    // The address bits past the prefix are cleared, so that it prints as a network.
    for (std::size_t i = 0; i < network.address.bytes.size(); ++i) {
        const unsigned start = static_cast<unsigned>(i) * 8;
        if (start >= network.prefix) {
            network.address.bytes[i] = 0;
        } else if (network.prefix - start < 8) {
            network.address.bytes[i] &=
                static_cast<std::uint8_t>(0xff << (8 - (network.prefix - start)));
        }
    }
    return network;
}

std::vector<IpNetwork> loopback_networks() {
    return {*parse_ip_network("127.0.0.0/8"), *parse_ip_network("::1")};
}

IpAddress forwarded_client(const IpAddress& peer, std::string_view forwarded_for,
                           const std::vector<IpNetwork>& trusted) {
    const auto is_trusted = [&trusted](const IpAddress& address) {
        return std::any_of(trusted.begin(), trusted.end(), [&address](const IpNetwork& network) {
            return network.contains(address);
        });
    };
    IpAddress client = peer;
    while (is_trusted(client) && !forwarded_for.empty()) {
        const auto comma = forwarded_for.rfind(',');
        const std::string_view entry =
            comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
        forwarded_for =
            comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
        if (trim_ows(entry).empty()) {
            continue;  // "a, , b": an empty element of the list
        }
        const auto named = parse_ip_address(entry);
        if (!named) {
            break;  // the trusted proxy that wrote it is the last address known
        }
        client = *named;
    }
    return client;
}

std::string rate_key(const IpAddress& client) {
    if (client.is_v4()) {
        return client.to_string();
    }
    IpAddress network = client;
    std::fill(network.bytes.begin() + 8, network.bytes.end(), std::uint8_t{0});
    return network.to_string() + "/64";
}

}  // namespace bscd
