#pragma once
// A build's history stream read in order into its timeline: the one way from
// stored entries to events, for bsc (history, status, watch) and the gateway
// (its feeds, the state endpoint, the replay). Pure: the readers, bsc's
// (client/history_follower.hpp) and the gateway's (gateway/timeline_reader.hpp),
// hand it each entry they read.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/build_event.hpp"
#include "core/catalog.hpp"
#include "core/entry_id.hpp"

namespace bscd {

class HistoryTimeline {
public:
    using Fields = std::vector<std::pair<std::string, std::string>>;

    HistoryTimeline(std::string project, const Catalog& catalog);

    // What one entry became.
    struct Taken {
        std::optional<HistoryEntry> entry;  // nullopt: malformed (not written by bscd)
        std::optional<BuildEvent> event;    // nullopt also after the final code, or for a
                                            // code the catalog lacks
    };
    // Takes the entry after the last one taken.
    Taken take(const EntryId& id, const Fields& fields);

    [[nodiscard]] const BuildTimeline& timeline() const { return timeline_; }
    // The last entry taken, malformed or not: the next read starts after it.
    [[nodiscard]] const std::optional<EntryId>& last_id() const { return last_id_; }

private:
    BuildTimeline timeline_;
    std::optional<EntryId> last_id_;
};

}  // namespace bscd
