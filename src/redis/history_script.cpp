#include "redis/history_script.hpp"

#include "core/project.hpp"

namespace bscd {

std::string_view history_script() {
    // KEYS[1] history stream; ARGV[1] channel; ARGV[2] max length; ARGV[3] ttl
    // after a final code; ARGV[4] ttl after any other code (a build that
    // died silently); then groups of 5: id, code, name, accepted ms, final.
    return R"lua(
local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
-- A script is not undone by an error: a PUBLISH refused after its XADD
-- would leave a code in the history that the retry then skips, never
-- published. So check every command first (Redis 7's ACL check, if any).
if redis.acl_check_cmd then
  local needed = {{'XADD', KEYS[1], '0-1', 'code', '0'}, {'PUBLISH', ARGV[1], '0'},
                  {'EXPIRE', KEYS[1], '1'}}
  for _, command in ipairs(needed) do
    if not redis.acl_check_cmd(unpack(command)) then
      return redis.error_reply('NOPERM this user may not run ' .. command[1] .. ' on ' .. command[2])
    end
  end
end
local last_ms, last_seq = -1, -1
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last_ms, last_seq = split(info[i + 1]) end
  end
end
local written, final = 0, nil
for i = 5, #ARGV, 5 do
  local ms, seq = split(ARGV[i])
  if ms > last_ms or (ms == last_ms and seq > last_seq) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[i],
               'code', ARGV[i + 1], 'name', ARGV[i + 2], 'ts', ARGV[i + 3])
    redis.call('PUBLISH', ARGV[1], ARGV[i + 1])
    last_ms, last_seq = ms, seq
    written = written + 1
    final = ARGV[i + 4] == '1'
  end
end
if final == true then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
elseif final == false then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return written
)lua";
}

std::vector<std::string> history_script_call(const std::string& sha,
                                             const HistorySettings& settings,
                                             std::span<const Delivery> batch) {
    std::vector<std::string> args;
    args.reserve(8 + batch.size() * 5);
    args.insert(args.end(), {"EVALSHA", sha, "1", history_key(settings.channel), settings.channel,
                             std::to_string(settings.max_length),
                             std::to_string(settings.ttl_after_final.count()),
                             std::to_string(settings.idle_ttl.count())});
    for (const Delivery& delivery : batch) {
        args.push_back(delivery.id.str());
        args.push_back(std::to_string(delivery.code->value));
        args.push_back(delivery.code->name);
        args.push_back(std::to_string(delivery.accepted_ms));
        args.emplace_back(delivery.code->is_final() ? "1" : "0");
    }
    return args;
}

}  // namespace bscd

#include "redis/sync_client.hpp"

namespace bscd {

EntryId read_history_position(SyncClient& redis, const std::string& channel) {
    const auto last = redis.last_stream_id(history_key(channel));
    if (!last) {
        return {};
    }
    const auto id = EntryId::parse(*last);
    if (!id) {
        throw RedisError("history " + history_key(channel) + " has a malformed last id " + *last);
    }
    return *id;
}

}  // namespace bscd
