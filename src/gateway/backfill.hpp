#pragma once
// What a viewer is owed from before its feed's memory: a project's events
// up to the newest one its feed let go (ProjectFeed::max_events), read again
// from Redis for that viewer alone, and handed over a page at a time, as
// the viewer writes them. The feed keeps the newer ones.
//
// Made on the viewer's loop; read on the Redis loop
// (Gateway::read_backfill), which alone touches its reader.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/entry_id.hpp"
#include "gateway/feed_event.hpp"
#include "gateway/timeline_reader.hpp"

namespace bscd {

class Backfill {
public:
    // The events after `after` (none: from the start) up to `through`.
    Backfill(std::string project, std::optional<EntryId> after, EntryId through);

    struct Page {
        std::vector<std::shared_ptr<const FeedEvent>> events;
        bool done = false;    // `through` is reached, or the history ends before it
        bool failed = false;  // Redis gave no answer: the viewer resumes later

        static Page failure() {
            Page page;
            page.failed = true;
            return page;
        }
    };

    [[nodiscard]] const std::string& project() const { return project_; }
    [[nodiscard]] const EntryId& through() const { return through_; }

    // On the Redis loop: the history is read from its start (a timeline's
    // progress needs every code before), by `reader`, made with the first
    // read.
    std::shared_ptr<TimelineReader> reader;
    // What of a page the reader read the viewer is owed; a gap event first
    // when the viewer's resume point is no longer in the history (Redis
    // trimmed it, and maybe entries after it), counted in `counters`.
    Page take(TimelineReader::Page page, HistoryCounters& counters);

private:
    std::string project_;
    std::optional<EntryId> after_;
    EntryId through_;
    bool reached_after_ = false;  // an event at or before `after_` was read
};

}  // namespace bscd
