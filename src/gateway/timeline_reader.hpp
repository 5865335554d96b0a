#pragma once
// A project's history read in order, page by page, into a build timeline
// (core/history_timeline.hpp, as bsc reads it), each event formatted once
// for viewers (FeedEvent). The gateway's reader: the feeds that viewers
// follow, the state endpoint, and the replay of what a feed no longer keeps
// in memory (Backfill) all read with it.
//
// Nothing is lost in silence: where Redis trimmed entries between two
// reads (the last entry read is gone while later ones are there), a gap
// event takes their place, and the gateway counts it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/build_event.hpp"
#include "core/catalog.hpp"
#include "core/entry_id.hpp"
#include "core/history_timeline.hpp"
#include "gateway/feed_event.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

// What the readers count for /metrics (on the Redis loop).
struct HistoryCounters {
    std::uint64_t entries_received = 0;  // history entries read
    std::uint64_t history_reads = 0;     // XRANGEs sent
    std::uint64_t history_gaps = 0;      // gap events made: entries trimmed before they were read
};

class TimelineReader : public std::enable_shared_from_this<TimelineReader> {
public:
    // Entries per read: a whole build's history in one read, as a rule.
    static constexpr std::size_t page_size = 1000;

    TimelineReader(std::string project, const Catalog& catalog, HistoryReader& reader,
                   HistoryCounters& counters);

    struct Page {
        std::vector<std::shared_ptr<const FeedEvent>> events;  // gap events included
        bool more = false;  // the page was full: read again at once
    };
    // Reads the entries after the last one read (from the start, the first
    // time). `done` gets the page, or nullopt when Redis gave no answer; it
    // is not called once the reader is gone. False (and no call of `done`)
    // when there is no link now.
    bool read(std::function<void(std::optional<Page> page)> done);

    [[nodiscard]] const std::string& project() const { return timeline().project(); }
    [[nodiscard]] const BuildTimeline& timeline() const { return history_.timeline(); }

private:
    void take(const HistoryReader::StreamPage& stored, Page& page);

    std::string history_key_;
    HistoryReader& reader_;
    HistoryCounters& counters_;
    HistoryTimeline history_;  // and the last entry read (after a final code too)
};

// The event that stands for entries trimmed by Redis after `after` and
// before `next` (which is there): {"type":"gap","project":"demo",
// "after":"<id>","next":"<id>"}, SSE event "gap", with no id: line (it is
// no place to resume from). It sorts between the two.
std::shared_ptr<const FeedEvent> make_gap_event(const std::string& project, const EntryId& after,
                                                const EntryId& next);
// The `after` of a gap event, from its id.
inline EntryId gap_start(const EntryId& gap_event_id) {
    return EntryId{gap_event_id.ms, gap_event_id.seq - 1};
}

}  // namespace bscd
