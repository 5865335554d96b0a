#include "redis/build_registry.hpp"

#include <charconv>

#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include "core/build_keys.hpp"
#include "core/project.hpp"
#include "core/unix_ms.hpp"

namespace bscd {
namespace {

// KEYS[1] the build hash; ARGV[1] started ms, ARGV[2] profile, ARGV[3] its
// lifetime in ms. A start already there is the build's own (bscd was
// restarted): it stays, and is answered.
constexpr std::string_view register_script = R"lua(
if redis.call('HSETNX', KEYS[1], 'started', ARGV[1]) == 1 then
  if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'profile', ARGV[2]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return redis.call('HMGET', KEYS[1], 'started', 'profile')
)lua";

// KEYS[1] the profile's list; ARGV[1] how a record of this build begins,
// ARGV[2] the record, ARGV[3] records kept, ARGV[4] the list's lifetime in
// ms. A build already recorded is not recorded again.
constexpr std::string_view record_script = R"lua(
for _, kept in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.sub(kept, 1, #ARGV[1]) == ARGV[1] then return 0 end
end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
)lua";

std::string ms_text(std::chrono::milliseconds duration) {
    return std::to_string(duration.count());
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::vector<std::string> newest_builds_command(std::size_t limit) {
    return {"ZREVRANGE", std::string(builds_index_key), "0",
            std::to_string(static_cast<std::int64_t>(limit) - 1), "WITHSCORES"};
}

std::vector<ListedBuild> parse_builds_index(const redisReply& reply) {
    std::vector<ListedBuild> builds;
    if (reply.type != REDIS_REPLY_ARRAY) {
        return builds;
    }
    for (std::size_t i = 0; i + 1 < reply.elements; i += 2) {
        const redisReply& member = *reply.element[i];
        const redisReply& score = *reply.element[i + 1];
        if (member.type != REDIS_REPLY_STRING || score.type != REDIS_REPLY_STRING) {
            continue;
        }
        // Scores are doubles; a start in ms is a whole number well within
        // a double's exact range, and Redis writes it without an exponent.
        const auto started = parse_integer(reply_text(score));
        std::string project(reply_text(member));
        if (started && is_valid_project_name(project)) {
            builds.push_back({std::move(project), *started});
        }
    }
    return builds;
}

std::optional<BuildStart> parse_build_start(const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 ||
        reply.element[0]->type != REDIS_REPLY_STRING) {
        return std::nullopt;
    }
    const auto started = parse_integer(reply_text(*reply.element[0]));
    if (!started) {
        return std::nullopt;
    }
    BuildStart start{*started, ""};
    // A profile bscd did not write (a hand's) is none: it names keys, and the
    // spool refuses it.
    if (reply.element[1]->type == REDIS_REPLY_STRING &&
        is_valid_profile_name(reply_text(*reply.element[1]))) {
        start.profile = std::string(reply_text(*reply.element[1]));
    }
    return start;
}

std::vector<BuildRecord> parse_profile(const redisReply& reply) {
    std::vector<BuildRecord> records;
    if (reply.type != REDIS_REPLY_ARRAY) {
        return records;
    }
    for (std::size_t i = 0; i < reply.elements; ++i) {
        if (auto record = BuildRecord::from_json(reply_text(*reply.element[i]))) {
            records.push_back(std::move(*record));
        }
    }
    return records;
}

BuildStart register_build(SyncClient& redis, const std::string& project, const std::string& channel,
                          const BuildStart& start, const BuildRecordSettings& settings,
                          std::chrono::milliseconds lifetime) {
    const auto reply =
        redis.command({"EVAL", std::string(register_script), "1", build_key(channel),
                       std::to_string(start.started_ms), start.profile, ms_text(lifetime)},
                      "EVAL (registering the build)");
    const auto kept = parse_build_start(*reply);
    if (!kept) {
        throw RedisError("Redis holds a damaged build start in " + build_key(channel));
    }
    if (!project.empty()) {
        const std::string key(builds_index_key);
        (void)redis.command({"ZADD", key, std::to_string(kept->started_ms), project}, "ZADD");
        const auto oldest = unix_ms_now() - std::chrono::milliseconds(settings.index_keep).count();
        (void)redis.command({"ZREMRANGEBYSCORE", key, "-inf", "(" + std::to_string(oldest)},
                            "ZREMRANGEBYSCORE");
    }
    return *kept;
}

std::optional<BuildStart> read_build_start(SyncClient& redis, const std::string& channel) {
    const auto reply = redis.command({"HMGET", build_key(channel), "started", "profile"}, "HMGET");
    return parse_build_start(*reply);
}

bool record_build_end(SyncClient& redis, const std::string& project, const std::string& channel,
                      const BuildStart& start, const BuildRecordSettings& settings) {
    const auto entries = read_history(redis, channel);
    const auto record = record_build(project, start, entries);
    if (!record) {
        return false;
    }
    if (start.profile.empty()) {
        return true;
    }
    const std::string begins = "{\"build\":" + nlohmann::json(record->build).dump() + ",";
    (void)redis.command(
        {"EVAL", std::string(record_script), "1", profile_key(start.profile), begins,
         record->to_json(), std::to_string(settings.max_builds), ms_text(settings.ttl)},
        "EVAL (recording the build)");
    return true;
}

std::vector<BuildRecord> read_profile(SyncClient& redis, const std::string& profile) {
    return parse_profile(*redis.command({"LRANGE", profile_key(profile), "0", "-1"}, "LRANGE"));
}

std::int64_t redis_time_ms(SyncClient& redis) {
    const auto reply = redis.command({"TIME"}, "TIME");
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        throw RedisError("Redis answered TIME with something other than two numbers");
    }
    const auto seconds = parse_integer(reply_text(*reply->element[0]));
    const auto micros = parse_integer(reply_text(*reply->element[1]));
    if (!seconds || !micros) {
        throw RedisError("Redis answered TIME with something other than two numbers");
    }
    return *seconds * 1000 + *micros / 1000;
}

std::vector<HistoryEntry> read_history(SyncClient& redis, const std::string& channel,
                                       std::size_t limit) {
    std::vector<HistoryEntry> history;
    for (const StreamEntry& stored : redis.read_stream(history_key(channel), EntryId{}, limit)) {
        if (auto entry = parse_history_entry(stored.id, stored.fields)) {
            history.push_back(std::move(*entry));
        }
    }
    return history;
}

}  // namespace bscd
