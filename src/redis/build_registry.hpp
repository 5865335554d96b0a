#pragma once
// What bscd keeps in Redis about a build besides its history: its start and
// profile (a hash beside the stream), the profile's record of recent ended
// builds, and the operator's index of builds. Blocking calls: bscd makes
// them at start and once at a build's end; bsc when it reads a build.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/build_record.hpp"
#include "core/build_start.hpp"
#include "redis/sync_client.hpp"

namespace bscd {

struct BuildRecordSettings {
    std::size_t max_builds = 20;                      // per profile, newest kept
    std::chrono::seconds ttl{std::chrono::days(90)};  // a profile not built that long is forgotten
    std::chrono::seconds index_keep{std::chrono::days(7)};  // builds listed for the operator
};

// At bscd's start. Returns the build's start as Redis keeps it: `start`,
// unless Redis already holds one for this channel (a restarted bscd goes on
// with the build it began). Lists the project in the operator's index
// (builds older than `index_keep` leave it). Throws RedisError.
BuildStart register_build(SyncClient& redis, const std::string& project, const std::string& channel,
                          const BuildStart& start, const BuildRecordSettings& settings,
                          std::chrono::milliseconds lifetime);

// The start Redis keeps for a channel's build, if any. Throws RedisError.
std::optional<BuildStart> read_build_start(SyncClient& redis, const std::string& channel);

// Once the build's history holds its final code: adds the build's record to
// its profile's, once (a record of the same build is never added twice, so
// a restarted bscd or a resent final code changes nothing). Returns whether
// the build had ended. Nothing is recorded without a profile. Throws
// RedisError.
bool record_build_end(SyncClient& redis, const std::string& project, const std::string& channel,
                      const BuildStart& start, const BuildRecordSettings& settings);

// A profile's recent ended builds, newest first; damaged records are
// skipped. Throws RedisError.
std::vector<BuildRecord> read_profile(SyncClient& redis, const std::string& profile);

// Now, as Redis' clock says (TIME): a client on another machine compares
// bscd's times with it, not with its own clock. Throws RedisError.
std::int64_t redis_time_ms(SyncClient& redis);

// Replies read the same by the blocking and the asynchronous clients: an
// HMGET of the build hash's started and profile (nullopt: no start kept),
// and an LRANGE of a profile's list (damaged records skipped).
std::optional<BuildStart> parse_build_start(const redisReply& reply);
std::vector<BuildRecord> parse_profile(const redisReply& reply);

// The operator's index (builds_index_key): the newest `limit` builds, newest
// first, as a ZREVRANGE ... WITHSCORES to send, and its reply read (entries
// that do not read as a valid project and a start are skipped).
struct ListedBuild {
    std::string project;
    std::int64_t started_ms = 0;
};
std::vector<std::string> newest_builds_command(std::size_t limit);
std::vector<ListedBuild> parse_builds_index(const redisReply& reply);

// The build's history entries as bscd wrote them, oldest first (at most
// `limit`); entries that are not bscd's are skipped. Throws RedisError.
std::vector<HistoryEntry> read_history(SyncClient& redis, const std::string& channel,
                                       std::size_t limit = 10'000);

}  // namespace bscd
