#include "client/build_outlook.hpp"

#include <cstddef>
#include <cstdio>
#include <utility>

#include "core/build_record.hpp"
#include "core/unix_ms.hpp"
#include "redis/build_registry.hpp"
#include "redis/sync_client.hpp"

namespace bscd::client {
namespace {

// Says once on stderr what could not be read; true when anything was said.
bool tell(const OutlookSources& sources) {
    if (!sources.error.empty()) {
        (void)std::fprintf(stderr, "bsc: no estimate: %s\n", sources.error.c_str());
        return true;
    }
    if (!sources.clock_error.empty()) {
        (void)std::fprintf(stderr, "bsc: estimate on this machine's clock: %s\n",
                           sources.clock_error.c_str());
        return true;
    }
    return false;
}

// Too few builds of the kind for a time left: "first build of this kind",
// "only 1 earlier build of this kind".
std::string learning_words(std::size_t builds) {
    return builds == 0 ? "first build of this kind"
                       : "only " + std::to_string(builds) + " earlier build" +
                             (builds == 1 ? "" : "s") + " of this kind";
}

// How many must have succeeded for a time left: "one has", "2 have".
std::string needed_words() {
    const std::size_t needed = EstimateRules{}.min_builds;
    return needed == 1 ? "one has" : std::to_string(needed) + " have";
}

std::string profile_of(const BuildOutlook& outlook) {
    return outlook.start ? outlook.start->profile : std::string();
}

}  // namespace

OutlookSources read_outlook_sources(const RedisOptions& redis, const std::string& project,
                                    const std::string& channel, const Catalog& catalog) {
    OutlookSources sources;
    std::vector<BuildRecord> history;
    try {
        SyncClient client(redis);
        try {
            sources.redis_now_ms = redis_time_ms(client);
        } catch (const RedisRefused& error) {
            sources.clock_error = error.what();  // the rest may still be readable
        }
        sources.start = read_build_start(client, channel);
        if (sources.start && !sources.start->profile.empty()) {
            history = read_profile(client, sources.start->profile);
        }
    } catch (const RedisError& error) {
        sources.error = error.what();
    }
    sources.learnt =
        learn(catalog, history,
              sources.start ? build_identity(project, sources.start->started_ms) : std::string());
    return sources;
}

BuildOutlook outlook(const RedisOptions& redis, const std::string& project,
                     const std::string& channel, const Catalog& catalog,
                     const BuildTimeline& timeline) {
    OutlookSources sources = read_outlook_sources(redis, project, channel, catalog);
    (void)tell(sources);
    BuildOutlook outlook;
    outlook.start = std::move(sources.start);
    outlook.estimate =
        estimate_build(catalog, sources.learnt, started_ms(outlook.start), timeline.stage_times(),
                       sources.redis_now_ms.value_or(unix_ms_now()));
    return outlook;
}

std::string time_left(const Estimate& estimate) {
    return estimate.left ? "about " + format_duration(estimate.left->ms) + " left" : std::string();
}

std::string time_left_range(const Estimate& estimate) {
    if (!estimate.left_low || !estimate.left_high ||
        estimate.left_low->ms == estimate.left_high->ms) {
        return {};  // no spread (one build learnt from): no range
    }
    return "(" + format_duration(estimate.left_low->ms) + " to " +
           format_duration(estimate.left_high->ms) + ")";
}

std::string estimate_line(const BuildOutlook& outlook) {
    const Estimate& e = outlook.estimate;
    const std::string profile = profile_of(outlook);
    switch (e.basis) {
        case EstimateBasis::finished:
            return "finished";
        case EstimateBasis::learning:
            return profile.empty() ? "none: the build has no profile (bscd --profile)"
                                   : learning_words(e.builds) + " (" + profile +
                                         "): no time left until " + needed_words() + " succeeded";
        case EstimateBasis::learnt:
            break;
    }
    const std::string range = time_left_range(e);
    std::string line = time_left(e) + (range.empty() ? "" : " " + range) + ", from " +
                       std::to_string(e.builds) + (e.builds == 1 ? " build" : " builds") + " of " +
                       profile;
    if (e.pace == Pace::slower) {
        line += "; this stage is slower than usual";
    } else if (e.pace == Pace::stalled) {
        line += "; this stage has probably stalled";
    }
    return line;
}

std::vector<std::string> to_come_items(const Estimate& estimate) {
    std::vector<std::string> items;
    for (const PlannedStage& stage : estimate.plan) {
        if (stage.state == StageState::done) {
            continue;
        }
        std::string item = std::to_string(stage.code->value) + " " + stage.code->name;
        if (stage.usual) {
            item += " (usually " + format_duration(stage.usual->median) + ")";
        }
        items.push_back(std::move(item));
    }
    return items;
}

std::string stages_to_come(const Estimate& estimate) {
    std::string line;
    for (const std::string& item : to_come_items(estimate)) {
        line += (line.empty() ? "" : ", ") + item;
    }
    return line;
}

ProgressNote progress_note(const BuildOutlook& outlook) {
    ProgressNote note;
    const Estimate& e = outlook.estimate;
    if (profile_of(outlook).empty() || e.basis == EstimateBasis::finished) {
        return note;
    }
    if (e.basis == EstimateBasis::learning) {
        note.outlook = learning_words(e.builds);
    } else {
        note.outlook = time_left(e);
        note.range = time_left_range(e);
    }
    if (e.pace == Pace::slower) {
        note.pace = "slower than usual";
    } else if (e.pace == Pace::stalled) {
        note.pace = "probably stalled";
    }
    if (e.builds > 0) {  // with nothing learnt the list is the catalog's, and no durations
        note.to_come = to_come_items(e);
    }
    return note;
}

void ServerClock::observe(std::int64_t server_ms, Steady at) {
    const auto now_ms = now(at);
    if (!now_ms || server_ms > *now_ms) {
        read_ms_ = server_ms;
        read_at_ = at;
    }
}

std::optional<std::int64_t> ServerClock::now(Steady at) const {
    if (!read_ms_) {
        return std::nullopt;
    }
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(at - read_at_).count();
    return *read_ms_ + std::max<std::int64_t>(since, 0);
}

WatchOutlook::WatchOutlook(RedisOptions redis, std::string project, std::string channel,
                           const Catalog& catalog)
    : redis_(std::move(redis)),
      project_(std::move(project)),
      channel_(std::move(channel)),
      catalog_(catalog) {}

void WatchOutlook::begin(Steady at) {
    if (reads_ == 0) {
        read(at);
    }
}

void WatchOutlook::code_arrived(std::int64_t ts_ms, Steady at) {
    // The first read, or the second while the build's start was not known
    // (bscd may have registered the build since).
    if (reads_ == 0 || (reads_ == 1 && !start_)) {
        read(at);
    }
    clock_.observe(ts_ms, at);
}

void WatchOutlook::read(Steady at) {
    ++reads_;
    OutlookSources sources = read_outlook_sources(redis_, project_, channel_, catalog_);
    if (!told_) {
        told_ = tell(sources);
    }
    if (sources.redis_now_ms) {
        clock_.observe(*sources.redis_now_ms, at);
    } else if (sources.error.empty()) {
        clock_.observe(unix_ms_now(), at);  // TIME refused: as bsc status does
    }
    if (sources.start) {
        start_ = std::move(sources.start);
        learnt_ = std::move(sources.learnt);
    }
}

std::optional<BuildOutlook> WatchOutlook::at(const BuildTimeline& timeline, Steady at) const {
    const auto now = clock_.now(at);
    if (!start_ || !now) {
        return std::nullopt;
    }
    return BuildOutlook{start_, estimate_build(catalog_, learnt_, start_->started_ms,
                                               timeline.stage_times(), *now)};
}

}  // namespace bscd::client
