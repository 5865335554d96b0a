#include "core/cluster_slot.hpp"

#include <array>

namespace bscd {
namespace {

constexpr std::uint16_t xmodem_polynomial = 0x1021;

// The CRC of every byte value, so that each key byte costs one lookup.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned byte = 0; byte < table.size(); ++byte) {
        auto crc = static_cast<std::uint16_t>(byte << 8U);
        for (int bit = 0; bit < 8; ++bit) {
            const bool top_bit = (crc & 0x8000U) != 0;
            crc = static_cast<std::uint16_t>(crc << 1U);
            if (top_bit) {
                crc ^= xmodem_polynomial;
            }
        }
        table.at(byte) = crc;
    }
    return table;
}

constexpr auto crc16_table = make_crc16_table();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view data) {
    std::uint16_t crc = 0;
    for (const char c : data) {
        const auto index = static_cast<std::uint8_t>((crc >> 8U) ^ static_cast<std::uint8_t>(c));
        crc = static_cast<std::uint16_t>((crc << 8U) ^ crc16_table.at(index));
    }
    return crc;
}

std::string_view hash_tag_or_key(std::string_view key) {
    const auto open = key.find('{');
    if (open == std::string_view::npos) {
        return key;
    }
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) {
        return key;  // no '}' after it, or "{}": the whole key counts
    }
    return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_hash_slot(std::string_view key) {
    return static_cast<std::uint16_t>(crc16_xmodem(hash_tag_or_key(key)) % cluster_slots);
}

}  // namespace bscd
