#pragma once
// What the libFuzzer targets share: property checks that abort (so that the
// fuzzer reports a broken property like a memory error, with the input), and
// the chunking of an input as a socket would deliver it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

// Aborts with the failed condition when a property does not hold.
#define FUZZ_CHECK(condition) \
    ((condition) ? static_cast<void>(0) : ::bscd::fuzz::fail(#condition, __FILE__, __LINE__))

namespace bscd::fuzz {

[[noreturn]] inline void fail(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, condition);
    std::abort();
}

inline bool is_printable_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    // libFuzzer hands bytes; the code under test reads chars.
    return {reinterpret_cast<const char*>(data), size};
}

// Splits `bytes` into the chunks a reader might get them in: sizes of 1 byte,
// a few bytes, tens of bytes and "the rest", mixed. The split points come
// from a hash of the input, so that an input always splits the same way (a
// crash reproduces) while the fuzzer, changing the input, also changes the
// splits.
inline std::vector<std::string_view> chunks_of(std::string_view bytes) {
    std::uint64_t state = 0xcbf29ce484222325ULL;  // FNV-1a of the input: the seed
    for (const char c : bytes) {
        state = (state ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    const auto next = [&state] {  // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    if (state == 0) {
        state = 1;
    }
    std::vector<std::string_view> chunks;
    while (!bytes.empty()) {
        const std::uint64_t r = next();
        std::size_t size = bytes.size();
        switch (r % 4) {
            case 0:
                size = 1;
                break;
            case 1:
                size = 1 + (r >> 8) % 8;
                break;
            case 2:
                size = 1 + (r >> 8) % 64;
                break;
            default:
                break;
        }
        size = std::min(size, bytes.size());
        chunks.push_back(bytes.substr(0, size));
        bytes.remove_prefix(size);
    }
    return chunks;
}

}  // namespace bscd::fuzz
