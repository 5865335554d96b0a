// parse_redirect and the error classes against the error texts Redis sends
// (the Redis Cluster specification's MOVED and ASK, Redis 7's empty and "?"
// endpoints) and texts that merely look like them.

#include "core/redis_redirect.hpp"

#include <optional>
#include <ostream>
#include <string_view>

#include <gtest/gtest.h>

namespace bscd {

// Readable failure messages; in bscd, and so named, for GoogleTest to find it.
static void PrintTo(const Redirect& r, std::ostream* os) {  // NOLINT(readability-identifier-naming)
    *os << (r.kind == Redirect::Kind::Moved ? "MOVED " : "ASK ") << r.slot << " " << r.node.str();
}

namespace {

using Kind = Redirect::Kind;

TEST(RedisRedirect, ParsesRedirections) {
    struct Case {
        std::string_view text;
        std::string_view replying_host;
        Redirect expected;
    };
    const Case cases[] = {
        {"MOVED 3999 127.0.0.1:6381", "10.0.0.9", {Kind::Moved, 3999, {"127.0.0.1", 6381}}},
        {"ASK 3999 127.0.0.1:6381", "10.0.0.9", {Kind::Ask, 3999, {"127.0.0.1", 6381}}},
        {"MOVED 0 redis-2.example:7000", "", {Kind::Moved, 0, {"redis-2.example", 7000}}},
        {"MOVED 16383 10.1.2.3:65535", "", {Kind::Moved, 16383, {"10.1.2.3", 65535}}},
        // Redis 7 unknown-endpoint: the node that answered, on another port.
        {"MOVED 3999 :6380", "10.0.0.9", {Kind::Moved, 3999, {"10.0.0.9", 6380}}},
        {"ASK 12 :6380", "redis-1.example", {Kind::Ask, 12, {"redis-1.example", 6380}}},
        // IPv6: Redis writes the address without brackets; the port is after the last colon.
        {"MOVED 5 ::1:6381", "", {Kind::Moved, 5, {"::1", 6381}}},
        {"MOVED 5 fe80::1:2:6381", "", {Kind::Moved, 5, {"fe80::1:2", 6381}}},
        {"ASK 5 [::1]:6381", "", {Kind::Ask, 5, {"::1", 6381}}},
    };
    for (const auto& c : cases) {
        const auto redirect = parse_redirect(c.text, c.replying_host);
        ASSERT_TRUE(redirect.has_value()) << c.text;
        EXPECT_EQ(*redirect, c.expected) << c.text;
    }
}

TEST(RedisRedirect, RejectsOtherTexts) {
    const std::string_view cases[] = {
        "",
        "MOVED",
        "MOVED ",
        "MOVED 3999",
        "MOVED 3999 ",
        "MOVED 3999 127.0.0.1",           // no port
        "MOVED 3999 127.0.0.1:",          // empty port
        "MOVED 3999 127.0.0.1:0",         // port 0
        "MOVED 3999 127.0.0.1:65536",     // port too large
        "MOVED 3999 127.0.0.1:63x",       // port not a number
        "MOVED 3999 127.0.0.1:+6381",     // signed port
        "MOVED 16384 127.0.0.1:6381",     // slot out of range
        "MOVED -1 127.0.0.1:6381",        // negative slot
        "MOVED 12a 127.0.0.1:6381",       // slot not a number
        "MOVED  3999 127.0.0.1:6381",     // two blanks
        "MOVED 3999 127.0.0.1:6381 x",    // trailing text
        "MOVED 3999 ?:6381",              // hostname announced but not configured
        "moved 3999 127.0.0.1:6381",      // codes are upper case
        "MOVEDX 3999 127.0.0.1:6381",     // another word
        "ASKING 3999 127.0.0.1:6381",     // another word
        "ERR MOVED 3999 127.0.0.1:6381",  // not the error code
        "-MOVED 3999 127.0.0.1:6381",     // RESP's '-' is not part of the text
        "READONLY You can't write against a read only replica.",
    };
    for (const auto text : cases) {
        EXPECT_EQ(parse_redirect(text, "10.0.0.9"), std::nullopt) << text;
    }
}

TEST(RedisRedirect, EmptyEndpointNeedsTheReplyingHost) {
    EXPECT_EQ(parse_redirect("MOVED 3999 :6380", ""), std::nullopt);
    EXPECT_EQ(parse_redirect("MOVED 3999 []:6380", ""), std::nullopt);
}

TEST(RedisRedirect, ErrorClasses) {
    enum class Class { RetryElsewhere, TryLater, Neither };
    struct Case {
        std::string_view text;
        Class expected;
    };
    const Case cases[] = {
        {"READONLY You can't write against a read only replica.", Class::RetryElsewhere},
        {"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
         Class::RetryElsewhere},
        {"LOADING Redis is loading the dataset in memory", Class::RetryElsewhere},
        {"READONLY", Class::RetryElsewhere},
        {"NOREPLICAS Not enough good replicas to write.", Class::TryLater},
        {"TRYAGAIN Multiple keys request during rehashing of slot", Class::TryLater},
        {"CLUSTERDOWN The cluster is down", Class::TryLater},
        {"CLUSTERDOWN Hash slot not served", Class::TryLater},
        {"TRYAGAIN", Class::TryLater},
        {"", Class::Neither},
        {"ERR unknown command", Class::Neither},
        {"NOSCRIPT No matching script. Please use EVAL.", Class::Neither},
        {"NOPERM this user has no permissions to run the 'xadd' command", Class::Neither},
        {"MOVED 3999 127.0.0.1:6381", Class::Neither},
        {"ASK 3999 127.0.0.1:6381", Class::Neither},
        {"READONLYX whatever", Class::Neither},  // the whole first word
        {"LOADINGS", Class::Neither},
        {"CLUSTERDOWNS x", Class::Neither},
        {"readonly You can't write", Class::Neither},  // codes are upper case
        {"ERR READONLY inside", Class::Neither},       // only the first word counts
        {" READONLY", Class::Neither},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(is_retry_elsewhere_error(c.text), c.expected == Class::RetryElsewhere) << c.text;
        EXPECT_EQ(is_try_later_error(c.text), c.expected == Class::TryLater) << c.text;
    }
}

}  // namespace
}  // namespace bscd
