#pragma once
// One event as every consumer sees it (docs/architecture.md, "The event
// JSON"): `bsc watch --json`, SSE `data:`, WebSocket messages. Built from a
// history entry and the build's progress after it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/entry_id.hpp"
#include "core/history_entry.hpp"
#include "core/progress.hpp"
#include "core/stage_times.hpp"

namespace bscd {

struct Estimate;

// Reads an entry's fields (as XRANGE returns them: name, value, name, value,
// ...); nullopt when `code` or `ts` is missing or not a number. Unknown
// fields are ignored (later versions may add some).
std::optional<HistoryEntry> parse_history_entry(
    const EntryId& id, const std::vector<std::pair<std::string, std::string>>& fields);

struct BuildEvent {
    std::string project;
    EntryId id;
    const StatusCode* code = nullptr;  // never null
    std::int64_t ts_ms = 0;
    int progress = 0;  // percent, after this event
    bool final = false;

    // {"project":"demo","id":"1763938454570-0","code":10,
    //  "name":"PREPARED_CHROOT_ENV_CODE","description":"chroot environment
    //  prepared (debootstrap or apk.static)","ts":"2025-11-23T22:54:14.570Z",
    //  "progress":7,"final":false}
    // One line, keys in this order, ts in UTC with milliseconds.
    [[nodiscard]] std::string to_json() const;
};

// "2025-11-23T22:54:14.570Z" for 1763938454570 (UTC, no time zone database).
std::string iso8601_utc(std::int64_t unix_ms);

// Follows one build: each history entry in, one event out, with progress.
// Entries whose code the catalog lacks are skipped (nullopt): a consumer
// with an older catalog shows what it knows. It keeps the build's progress,
// its last event and its stage times, never every event: its size is
// bounded by the catalog, however many codes a producer sends (whoever
// needs every event keeps what add() returns).
class BuildTimeline {
public:
    BuildTimeline(std::string project, const Catalog& catalog);

    std::optional<BuildEvent> add(const HistoryEntry& entry);

    [[nodiscard]] const std::string& project() const { return project_; }
    [[nodiscard]] const BuildProgress& progress() const { return progress_; }

    // An event with how long its stage took: the time since the previous
    // code (nullopt for the first code: the build's start is not known).
    struct Stage {
        BuildEvent event;
        std::optional<std::int64_t> duration_ms;
    };
    // The last event taken (nullopt before any).
    [[nodiscard]] const std::optional<Stage>& last_stage() const { return last_; }
    // Events taken.
    [[nodiscard]] std::size_t event_count() const { return events_; }
    [[nodiscard]] bool empty() const { return events_ == 0; }
    // Each code passed once, with its time: what the estimate needs.
    [[nodiscard]] const StageTimes& stage_times() const { return times_; }

    // Where the build stands, as `bsc status --json` prints it (and the
    // gateway serves it), one line; requires at least one event:
    // {"project":"demo","state":"running","progress":21,"stage":3,
    //  "stages":14,"code":21,"name":"SET_UP_TIMEZONE_CODE",
    //  "description":"time zone set up","started":"...Z","updated":"...Z",
    //  "last_id":"1763938454570-2","events":3}
    // state is "running", "succeeded" or "failed". With an estimate, also
    // its members (add_estimate, core/estimate.hpp).
    [[nodiscard]] std::string state_json(const std::optional<BuildStart>& start = std::nullopt,
                                         const Estimate* estimate = nullptr) const;

private:
    std::string project_;
    const Catalog& catalog_;
    BuildProgress progress_;
    std::optional<Stage> last_;
    std::size_t events_ = 0;
    StageTimes times_;
};

}  // namespace bscd
