#pragma once
// Redis stream entry ids ("<ms>-<seq>") and the strictly increasing sequence
// of them that bscd assigns to accepted codes. Choosing ids in bscd (rather
// than letting Redis pick with "*") makes a retried write recognisable: the
// history script skips an id that is not above the stream's last one.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bscd {

struct EntryId {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    [[nodiscard]] std::string str() const;  // "1763938454570-0"
    // Parses "<ms>-<seq>" (both decimal, no signs or blanks); nullopt otherwise.
    static std::optional<EntryId> parse(std::string_view text);

    auto operator<=>(const EntryId&) const =
        default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

class EntryIdSequence {
public:
    // The id for a code accepted at wall-clock time now_ms: {now_ms, 0} when
    // that is above the last id handed out, else the last id with seq + 1
    // (same millisecond, or the clock stepped back).
    EntryId next(std::uint64_t now_ms);

    // Ids handed out from now on are above `last` (e.g. the history's last
    // entry, so that a restarted bscd continues after it).
    void continue_after(EntryId last);

    [[nodiscard]] EntryId last() const { return last_; }

private:
    EntryId last_{};
};

}  // namespace bscd
