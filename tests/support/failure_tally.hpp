#pragma once
// How many of a test swarm's connections failed, and the first reasons why,
// for the test's failure messages. Not locked: its owner's mutex guards it.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace bscd::test {

struct FailureTally {
    static constexpr std::size_t reasons_kept = 20;

    void add(std::string reason) {
        ++count;
        if (reasons.size() < reasons_kept) {
            reasons.push_back(std::move(reason));
        }
    }
    // "N failed; reason; reason..." with at most `max` reasons.
    [[nodiscard]] std::string describe(std::size_t max) const {
        std::string text = std::to_string(count) + " failed";
        for (std::size_t i = 0; i < reasons.size() && i < max; ++i) {
            text += "; " + reasons[i];
        }
        return text;
    }

    std::size_t count = 0;
    std::vector<std::string> reasons;
};

}  // namespace bscd::test
