#include "server/build_recording.hpp"

#include <utility>

#include <spdlog/spdlog.h>

namespace bscd {

BuildRecording::BuildRecording(RedisOptions redis, std::string project, std::string channel,
                               BuildRecordSettings settings)
    : redis_(std::move(redis)),
      project_(std::move(project)),
      channel_(std::move(channel)),
      settings_(settings) {}

BuildStart BuildRecording::begin(SyncClient& redis, Spool* spool, const BuildStart& now,
                                 std::chrono::milliseconds lifetime) {
    const auto spooled = spool != nullptr ? spool->build_start() : std::nullopt;
    BuildStart kept = keep(redis, spooled.value_or(now), lifetime);
    if (spool != nullptr && spooled != kept) {
        spool->record_build_start(kept);
    }
    return kept;
}

BuildStart BuildRecording::keep(SyncClient& redis, const BuildStart& start,
                                std::chrono::milliseconds lifetime) {
    start_ = start;
    try {
        start_ = register_build(redis, project_, channel_, start, settings_, lifetime);
        if (start_.started_ms != start.started_ms) {
            spdlog::info("Build of {} started at {} ms (kept in Redis), profile '{}'", channel_,
                         start_.started_ms, start_.profile);
        }
        record(redis);
    } catch (const RedisError& e) {
        spdlog::warn("Redis keeps no start for the build of {}: {}; it gets no estimate", channel_,
                     e.what());
    }
    return start_;
}

void BuildRecording::build_ended() {
    if (recorded_) {
        return;
    }
    try {
        SyncClient redis(redis_);
        record(redis);
    } catch (const RedisError& e) {
        spdlog::warn(
            "Could not add the build of {} to profile '{}': {}; trying again at the "
            "next final code",
            channel_, start_.profile, e.what());
    }
}

void BuildRecording::record(SyncClient& redis) {
    if (record_build_end(redis, project_, channel_, start_, settings_)) {
        recorded_ = true;
        if (!start_.profile.empty()) {
            spdlog::info("Build of {} added to profile '{}'", channel_, start_.profile);
        }
    }
}

}  // namespace bscd
