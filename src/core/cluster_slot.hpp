#pragma once
// Which of a Redis Cluster's hash slots a key belongs to, as the Redis
// Cluster specification defines it ("Key distribution model", "Hash tags"):
// CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bscd {

inline constexpr std::size_t cluster_slots = 16384;

// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final
// xor ("123456789" gives 0x31C3).
std::uint16_t crc16_xmodem(std::string_view data);

// The part of `key` that decides its slot: what lies between the first '{'
// and the first '}' after it when that is not empty, else the whole key. So
// "{user1000}.following" hashes as "user1000", "foo{}{bar}" as itself.
std::string_view hash_tag_or_key(std::string_view key);

// The slot of `key`, 0 to 16383.
std::uint16_t key_hash_slot(std::string_view key);

}  // namespace bscd
