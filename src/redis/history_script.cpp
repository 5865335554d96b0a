#include "redis/history_script.hpp"

#include <hiredis/hiredis.h>

#include "core/build_keys.hpp"
#include "core/project.hpp"

namespace bscd {

std::string_view history_script() {
    // KEYS[1] history stream, KEYS[2] the build's hash (its start, beside
    // the stream: same slot); ARGV[1] channel; ARGV[2] max length; ARGV[3]
    // ms to live after a final code; ARGV[4] ms after any other (a build
    // that died silently); ARGV[5..7] `after`: its id ('0-0' for none),
    // code and accepted ms; ARGV[8] `possibly written up to` ('0-0' for
    // none; see BatchContext); ARGV[9], ARGV[10] the build's start ms ('' if
    // not known) and profile; then groups of 5: id, code, name, accepted
    // ms, final. Answers {processed, written, conflict_last} (see
    // HistoryOutcome; '' when there was no conflict).
    return R"lua(
local key, build = KEYS[1], KEYS[2]
-- Ids compared exactly: their parts go up to 2^64, past a Lua number's
-- precision, and another writer may choose any. Decimal, no leading zeros.
local function compare_number(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  if #a <= 15 then return tonumber(a) < tonumber(b) and -1 or 1 end
  for i = 1, #a do  -- byte by byte: Lua's string < collates by locale
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end
local function compare_id(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  local by_ms = compare_number(a_ms, b_ms)
  if by_ms ~= 0 then return by_ms end
  return compare_number(a_seq, b_seq)
end
-- A script is not undone by an error: a PUBLISH refused after its XADD
-- would leave a code in the history that the retry then skips, never
-- published. So check every command first (Redis 7's ACL check, if any).
if redis.acl_check_cmd then
  local needed = {{'XADD', key, '0-1', 'code', '0'}, {'PUBLISH', ARGV[1], '0'},
                  {'XRANGE', key, '-', '+'}, {'PTTL', key}, {'PEXPIRE', key, '1'}}
  for _, command in ipairs(needed) do
    if not redis.acl_check_cmd(unpack(command)) then
      return redis.error_reply('NOPERM this user may not run ' .. command[1] .. ' on ' .. command[2])
    end
  end
end
local function fields_of(list)
  local entry = {}
  for j = 1, #list, 2 do entry[list[j]] = list[j + 1] end
  return entry
end
local last, first, removed, newest = nil, nil, false, nil
if redis.call('EXISTS', key) == 1 then
  local info, length, added = redis.call('XINFO', 'STREAM', key), 0, nil
  for i = 1, #info, 2 do
    local name, value = info[i], info[i + 1]
    if name == 'last-generated-id' then last = value
    elseif name == 'first-entry' and value then first = value[1]
    elseif name == 'last-entry' and value then newest = {id = value[1], fields = fields_of(value[2])}
    elseif name == 'length' then length = value
    elseif name == 'entries-added' then added = value end
  end
  -- Whether entries were ever trimmed or deleted; Redis 6 does not count
  -- what was added, and a stream at its cap may have been trimmed.
  if added then removed = added > length else removed = length >= tonumber(ARGV[2]) end
end
-- An absent entry that an earlier call may have written, older than
-- everything the stream keeps: trimmed since, so written. One never sent
-- before cannot be, whatever the stream looks like.
local function trimmed(id)
  return removed and compare_id(id, ARGV[8]) <= 0 and (first == nil or compare_id(id, first) < 0)
end
local function entry_at(id)
  if newest and newest.id == id then return newest.fields end
  local found = redis.call('XRANGE', key, id, id)
  if #found == 0 then return nil end
  return fields_of(found[1][2])
end
-- Whether bscd's entry (id, code, accepted ms) is in the stream: that very
-- entry, or trimmed since. Nothing else at its id counts.
local function in_stream(id, code, ts)
  local entry = entry_at(id)
  if entry then return entry.code == code and entry.ts == ts end
  return trimmed(id)
end
-- The previous batch stopped at a conflict: writing this one now would put
-- its codes ahead of the earlier ones, which then move to ids after them.
-- An entry of another writer's at `after`'s very id (two bscds stamp ids
-- from the same clock) does not count as bscd's.
local conflict = false
if ARGV[5] ~= '0-0' then
  conflict = last == nil or not in_stream(ARGV[5], ARGV[6], ARGV[7])
end
local processed, written, final = 0, 0, nil
if not conflict then
  for i = 11, #ARGV, 5 do
    local id = ARGV[i]
    if last == nil or compare_id(id, last) > 0 then
      redis.call('XADD', key, 'MAXLEN', '~', ARGV[2], id,
                 'code', ARGV[i + 1], 'name', ARGV[i + 2], 'ts', ARGV[i + 3])
      redis.call('PUBLISH', ARGV[1], ARGV[i + 1])
      last = id
      written = written + 1
    else
      -- Already written only if it is the very entry: same code, accepted
      -- at the same ms. Anything else in its way is another writer's.
      conflict = not in_stream(id, ARGV[i + 1], ARGV[i + 3])
      if conflict then break end
    end
    processed = processed + 1
    final = ARGV[i + 4] == '1'
  end
end
-- The build's start, again: bscd wrote it at its start, but a failover
-- may have lost it since (asynchronous replication); a WAIT after this
-- call covers it. One already there stays: it is the build's own.
-- Only where this user may: a user set up before bscd kept starts (its
-- ACL lacks the hash) still gets every code written.
local may_keep_build = ARGV[9] ~= '' and (not redis.acl_check_cmd or
  (redis.acl_check_cmd('HSETNX', build, 'started', '0') and
   redis.acl_check_cmd('PEXPIRE', build, '1')))
local function keep_build(ttl)
  if may_keep_build then
    if redis.call('HSETNX', build, 'started', ARGV[9]) == 1 and ARGV[10] ~= '' then
      redis.call('HSETNX', build, 'profile', ARGV[10])
    end
    redis.call('PEXPIRE', build, ttl)
  end
end
-- Always end with a write that replicates, so that a WAIT after this call
-- covers the entries it found already written as well as those it wrote.
if final ~= nil then
  redis.call('PEXPIRE', key, final and ARGV[3] or ARGV[4])
  keep_build(final and ARGV[3] or ARGV[4])
else
  -- Nothing processed (a conflict at once): keep the stream's lifetime as
  -- it is, re-applied; one without any (another writer made it) gets the
  -- idle one. No stream: nothing to write, and nothing to confirm either.
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then
    redis.call('PEXPIRE', key, string.format('%d', ttl))
    keep_build(string.format('%d', ttl))
  elseif ttl == -1 then
    redis.call('PEXPIRE', key, ARGV[4])
    keep_build(ARGV[4])
  end
end
return {processed, written, conflict and (last or '0-0') or ''}
)lua";
}

std::vector<std::string> history_script_call(const std::string& sha,
                                             const HistorySettings& settings,
                                             std::span<const Delivery> batch,
                                             const BatchContext& context) {
    using std::chrono::milliseconds;
    std::vector<std::string> args;
    args.reserve(14 + batch.size() * 5);
    args.insert(
        args.end(),
        {"EVALSHA", sha, "2", history_key(settings.channel), build_key(settings.channel),
         settings.channel, std::to_string(settings.max_length),
         std::to_string(std::chrono::duration_cast<milliseconds>(settings.ttl_after_final).count()),
         std::to_string(std::chrono::duration_cast<milliseconds>(settings.idle_ttl).count())});
    if (context.after) {
        args.push_back(context.after->id.str());
        args.push_back(std::to_string(context.after->code->value));
        args.push_back(std::to_string(context.after->accepted_ms));
    } else {
        args.insert(args.end(), {"0-0", "", ""});
    }
    args.push_back(context.possibly_written_up_to.value_or(EntryId{}).str());
    if (settings.build) {
        args.push_back(std::to_string(settings.build->started_ms));
        args.push_back(settings.build->profile);
    } else {
        args.insert(args.end(), {"", ""});
    }
    for (const Delivery& delivery : batch) {
        args.push_back(delivery.id.str());
        args.push_back(std::to_string(delivery.code->value));
        args.push_back(delivery.code->name);
        args.push_back(std::to_string(delivery.accepted_ms));
        args.emplace_back(delivery.code->is_final() ? "1" : "0");
    }
    return args;
}

std::optional<HistoryOutcome> parse_history_reply(const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER ||
        reply->element[2]->type != REDIS_REPLY_STRING || reply->element[0]->integer < 0 ||
        reply->element[1]->integer < 0 || reply->element[1]->integer > reply->element[0]->integer) {
        return std::nullopt;
    }
    HistoryOutcome outcome;
    outcome.processed = static_cast<std::size_t>(reply->element[0]->integer);
    outcome.written = static_cast<std::size_t>(reply->element[1]->integer);
    const std::string_view last(reply->element[2]->str, reply->element[2]->len);
    if (!last.empty()) {
        outcome.conflict_last = EntryId::parse(last);
        if (!outcome.conflict_last) {
            return std::nullopt;
        }
    }
    return outcome;
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
