#include "core/client_address.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bscd {
namespace {

IpAddress ip(const std::string& text) {
    const auto address = parse_ip_address(text);
    EXPECT_TRUE(address) << text;
    return address.value_or(IpAddress{});
}

std::vector<IpNetwork> networks(const std::vector<std::string>& texts) {
    std::vector<IpNetwork> parsed;
    for (const auto& text : texts) {
        const auto network = parse_ip_network(text);
        EXPECT_TRUE(network) << text;
        if (network) {
            parsed.push_back(*network);
        }
    }
    return parsed;
}

TEST(ClientAddress, ParsesBothFamiliesAndPrintsThemBack) {
    EXPECT_EQ(ip("203.0.113.7").to_string(), "203.0.113.7");
    EXPECT_TRUE(ip("203.0.113.7").is_v4());
    EXPECT_EQ(ip(" 2001:DB8::1\t").to_string(), "2001:db8::1");
    EXPECT_FALSE(ip("2001:db8::1").is_v4());
    // An IPv4 client of a gateway listening on [::] is the same client.
    EXPECT_EQ(ip("::ffff:203.0.113.7"), ip("203.0.113.7"));
    EXPECT_EQ(ip("::ffff:203.0.113.7").to_string(), "203.0.113.7");
}

TEST(ClientAddress, RefusesWhatIsNotAnAddress) {
    for (const std::string& text : std::vector<std::string>{
             "", " ", "localhost", "203.0.113.7:80", "[::1]", "::1%lo", "203.0.113", "1.2.3.4.5",
             "256.1.1.1", "unknown", "203.0.113.7 198.51.100.1", std::string(100, '1')}) {
        EXPECT_FALSE(parse_ip_address(text)) << text;
    }
}

TEST(ClientAddress, NetworksContainTheirAddressesOnly) {
    const auto loopback = *parse_ip_network("127.0.0.0/8");
    EXPECT_EQ(loopback.to_string(), "127.0.0.0/8");
    EXPECT_TRUE(loopback.contains(ip("127.0.0.1")));
    EXPECT_TRUE(loopback.contains(ip("127.255.0.9")));
    EXPECT_FALSE(loopback.contains(ip("128.0.0.1")));
    EXPECT_FALSE(loopback.contains(ip("::1")));

    const auto odd = *parse_ip_network("10.1.2.3/23");  // host bits cleared
    EXPECT_EQ(odd.to_string(), "10.1.2.0/23");
    EXPECT_TRUE(odd.contains(ip("10.1.3.255")));
    EXPECT_FALSE(odd.contains(ip("10.1.4.0")));

    const auto one = *parse_ip_network("10.0.0.5");
    EXPECT_TRUE(one.contains(ip("10.0.0.5")));
    EXPECT_FALSE(one.contains(ip("10.0.0.6")));

    const auto v6 = *parse_ip_network("2001:db8::/32");
    EXPECT_TRUE(v6.contains(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(v6.contains(ip("2001:db9::1")));
    EXPECT_TRUE(parse_ip_network("::/0")->contains(ip("1.2.3.4")));

    for (const std::string& text :
         std::vector<std::string>{"10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x",
                                  "10.0.0.0/8/8", "/8", "10.0.0.0/-1"}) {
        EXPECT_FALSE(parse_ip_network(text)) << text;
    }
}

TEST(ClientAddress, LoopbackIsTheDefaultTrust) {
    const auto loopback = loopback_networks();
    ASSERT_EQ(loopback.size(), 2U);
    EXPECT_EQ(loopback[0].to_string(), "127.0.0.0/8");
    EXPECT_EQ(loopback[1].to_string(), "::1/128");
}

// Each row: the peer, X-Forwarded-For, the trusted proxies, the client.
struct ForwardedCase {
    std::string peer;
    std::string forwarded_for;
    std::vector<std::string> trusted;
    std::string client;
};

TEST(ClientAddress, ForwardedClientIsTheFirstUntrustedFromTheRight) {
    const std::vector<ForwardedCase> cases = {
        // No proxy trusted, or the peer is not one: the header is ignored.
        {"198.51.100.1", "203.0.113.7", {}, "198.51.100.1"},
        {"198.51.100.1", "203.0.113.7", {"127.0.0.0/8"}, "198.51.100.1"},
        // A trusted proxy: the address it appended.
        {"127.0.0.1", "203.0.113.7", {"127.0.0.0/8"}, "203.0.113.7"},
        {"127.0.0.1", "", {"127.0.0.0/8"}, "127.0.0.1"},
        // What the client wrote itself (left of the proxy's entry) is not believed.
        {"127.0.0.1", "1.1.1.1, 203.0.113.7", {"127.0.0.0/8"}, "203.0.113.7"},
        // A chain of trusted proxies is followed to the first untrusted one.
        {"127.0.0.1",
         "1.1.1.1, 203.0.113.7, 10.0.0.2",
         {"127.0.0.0/8", "10.0.0.0/8"},
         "203.0.113.7"},
        // All trusted: the leftmost address there is.
        {"127.0.0.1", "10.0.0.3, 10.0.0.2", {"127.0.0.0/8", "10.0.0.0/8"}, "10.0.0.3"},
        // Garbage ends the walk at the proxy that wrote it.
        {"127.0.0.1", "203.0.113.7, unknown", {"127.0.0.0/8"}, "127.0.0.1"},
        {"127.0.0.1", "203.0.113.7, 10.0.0.2, bogus:1", {"127.0.0.0/8", "10.0.0.0/8"}, "127.0.0.1"},
        {"127.0.0.1", "unknown, 10.0.0.2", {"127.0.0.0/8", "10.0.0.0/8"}, "10.0.0.2"},
        // Empty elements are skipped; fields joined with commas are one list.
        {"127.0.0.1", "203.0.113.7, ,", {"127.0.0.0/8"}, "203.0.113.7"},
        {"::1", "2001:db8::7", {"::1"}, "2001:db8::7"},
        {"127.0.0.1", "::ffff:203.0.113.7", {"127.0.0.0/8"}, "203.0.113.7"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(forwarded_client(ip(c.peer), c.forwarded_for, networks(c.trusted)).to_string(),
                  c.client)
            << "peer " << c.peer << ", X-Forwarded-For \"" << c.forwarded_for << "\"";
    }
}

TEST(ClientAddress, RateKeyIsTheAddressOrItsSlash64) {
    EXPECT_EQ(rate_key(ip("203.0.113.7")), "203.0.113.7");
    EXPECT_EQ(rate_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), "2001:db8:1:2::/64");
    EXPECT_EQ(rate_key(ip("2001:db8:1:2::1")), rate_key(ip("2001:db8:1:2:ffff::9")));
    EXPECT_NE(rate_key(ip("2001:db8:1:2::1")), rate_key(ip("2001:db8:1:3::1")));
}

}  // namespace
}  // namespace bscd
