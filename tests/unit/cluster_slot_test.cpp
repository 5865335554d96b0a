// key_hash_slot against the Redis Cluster specification's CRC16 check value
// and hash tag rules; every expected slot was computed by a Redis 7.0 node
// in cluster mode (CLUSTER KEYSLOT).

#include "core/cluster_slot.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(ClusterSlot, Crc16IsXmodem) {
    struct Case {
        std::string_view data;
        std::uint16_t crc;
    };
    const Case cases[] = {
        {"", 0x0000},
        {"123456789", 0x31C3},  // the specification's check value
        {"A", 0x58E5},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(crc16_xmodem(c.data), c.crc) << c.data;
    }
}

TEST(ClusterSlot, HashTagOrKey) {
    struct Case {
        std::string_view key;
        std::string_view hashed;
    };
    const Case cases[] = {
        {"somekey", "somekey"},
        {"{user1000}.following", "user1000"},
        {"{user1000}.followers", "user1000"},
        {"foo{}{bar}", "foo{}{bar}"},  // empty first tag: the whole key
        {"foo{{bar}}zap", "{bar"},     // from the first '{' to the first '}' after it
        {"foo{bar}{zap}", "bar"},      // the first tag only
        {"{}abc", "{}abc"},            // a key starting with {} is hashed whole
        {"a{b", "a{b"},                // no '}' after the '{'
        {"a}b{", "a}b{"},              // a '}' before the '{' does not count
        {"{bscd-demo}:events", "bscd-demo"},
        {"", ""},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(hash_tag_or_key(c.key), c.hashed) << c.key;
    }
}

TEST(ClusterSlot, KeyHashSlotMatchesRedis) {
    struct Case {
        std::string key;
        std::uint16_t slot;
    };
    const Case cases[] = {
        {"123456789", 12739},  // 0x31C3 mod 16384
        {"somekey", 11058},
        {"foo{hash_tag}", 2515},
        {"bar{hash_tag}", 2515},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"user1000", 3443},
        {"foo{}{bar}", 8363},
        {"foo{{bar}}zap", 4015},
        {"{bar", 4015},
        {"foo{bar}{zap}", 5061},
        {"bar", 5061},
        {"{}abc", 5980},
        {"a{b", 13340},
        {"a}b{", 6027},
        {"", 0},
        {"bscd-demo", 7763},
        {"bscd-demo:events", 12070},
        {"{bscd-demo}:events", 7763},
        {"\xff\x80", 4727},  // bytes above 0x7f count as unsigned
    };
    for (const auto& c : cases) {
        EXPECT_EQ(key_hash_slot(c.key), c.slot) << c.key;
    }
}

TEST(ClusterSlot, EverySlotIsBelowTheCount) {
    static_assert(cluster_slots == 16384);
    for (int i = 0; i < 10'000; ++i) {
        EXPECT_LT(key_hash_slot("key:" + std::to_string(i)), cluster_slots);
    }
}

}  // namespace
}  // namespace bscd
