#include "core/entry_id.hpp"

#include <charconv>
#include <limits>
#include <system_error>

namespace bscd {

namespace {

// A non-empty run of decimal digits that fits in uint64_t.
std::optional<std::uint64_t> parse_u64(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::string EntryId::str() const {
    return std::to_string(ms) + "-" + std::to_string(seq);
}

std::optional<EntryId> EntryId::parse(std::string_view text) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto ms = parse_u64(text.substr(0, dash));
    const auto seq = parse_u64(text.substr(dash + 1));
    if (!ms || !seq) {
        return std::nullopt;
    }
    return EntryId{*ms, *seq};
}

EntryId EntryIdSequence::next(std::uint64_t now_ms) {
    const EntryId candidate{now_ms, 0};
    if (candidate > last_) {
        last_ = candidate;
    } else if (last_.seq < std::numeric_limits<std::uint64_t>::max()) {
        ++last_.seq;
    } else {
        // The sequence of this millisecond is exhausted: borrow the next one.
        last_ = EntryId{last_.ms + 1, 0};
    }
    return last_;
}

void EntryIdSequence::continue_after(EntryId last) {
    if (last > last_) {
        last_ = last;
    }
}

}  // namespace bscd
