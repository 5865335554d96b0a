#pragma once
// Which client an HTTP request comes from (docs/gateway.md, "Limits"): the
// peer of its connection, or, when that peer is a proxy the gateway trusts
// (--trust-proxy), the address the proxies name in X-Forwarded-For. Pure:
// addresses are parsed here from text, nothing is resolved.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bscd {

// An IPv4 or IPv6 address. IPv4 is kept as IPv6 keeps it (::ffff:a.b.c.d),
// so that a gateway listening on [::] sees the same address for a client as
// one listening on 0.0.0.0.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};

    [[nodiscard]] bool is_v4() const;
    // "203.0.113.7", "2001:db8::1".
    [[nodiscard]] std::string to_string() const;
    bool operator==(const IpAddress&) const = default;
};

// "203.0.113.7", "2001:db8::1", "::ffff:203.0.113.7" (spaces and tabs
// around it ignored); nullopt for anything else (names, ports, brackets,
// zone ids).
std::optional<IpAddress> parse_ip_address(std::string_view text);

// An address and the length of its prefix: a network.
struct IpNetwork {
    IpAddress address;
    unsigned prefix = 128;  // in IPv6 bits: an IPv4 /8 is 104

    [[nodiscard]] bool contains(const IpAddress& address) const;
    // "127.0.0.0/8", "::1/128".
    [[nodiscard]] std::string to_string() const;
};

// "10.0.0.0/8", "2001:db8::/32", or one address ("10.0.0.5": /32, "::1":
// /128); nullopt when malformed or a prefix is too long for its family.
std::optional<IpNetwork> parse_ip_network(std::string_view text);

// Loopback, the default --trust-proxy: 127.0.0.0/8 and ::1.
std::vector<IpNetwork> loopback_networks();

// The client of a request that came from `peer` with the X-Forwarded-For
// fields `forwarded_for` (all of them joined with commas, in order; empty
// when there are none). A proxy appends the address it got the request from,
// so the list is read from its end: while the address at hand (the peer
// first) is a trusted proxy, the entry it appended is taken. The first
// address that is not a trusted proxy is the client; what stands left of it
// was written by the client itself and is never believed. An entry that is
// not an address ends the walk at the proxy that wrote it.
IpAddress forwarded_client(const IpAddress& peer, std::string_view forwarded_for,
                           const std::vector<IpNetwork>& trusted);

// The name a client's requests are counted under: an IPv4 address as it is,
// an IPv6 address as its /64 ("2001:db8:1:2::/64"), since one host commonly
// holds a whole /64 and could otherwise take a new address per request.
std::string rate_key(const IpAddress& client);

}  // namespace bscd
