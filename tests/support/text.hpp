#pragma once
// Small helpers on program output, for tests whose subject is the output
// itself (a log cap, a warning said once).

#include <cstddef>
#include <string>

namespace bscd::test {

// How many times `what` occurs in `text` (overlapping occurrences counted).
inline std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++count;
    }
    return count;
}

}  // namespace bscd::test
