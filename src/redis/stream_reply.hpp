#pragma once
// Stream entries as XRANGE and XREAD return them, read out of hiredis
// replies; shared by the blocking and the asynchronous clients.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/entry_id.hpp"

struct redisReply;

namespace bscd {

// One stream entry: id and field/value pairs.
struct StreamEntry {
    EntryId id;
    std::vector<std::pair<std::string, std::string>> fields;
};

// Entries of an [[id, [field, value, ...]], ...] reply; an empty list for a
// nil or empty reply; nullopt when the reply is malformed.
std::optional<std::vector<StreamEntry>> parse_stream_entries(const redisReply& entries);

// Whether entries after `cursor` were removed from a stream whose entry
// `cursor` is gone, from an XINFO STREAM reply (Redis 7: entries-added,
// length, max-deleted-entry-id). Trimming removes the oldest entries, so
// it is whether anything was trimmed at all (a stream made anew, as by a
// Redis restarted empty, lost nothing) or deleted after the cursor. Also
// true when the reply does not say (Redis before 7): they may be.
bool entries_removed_after(const redisReply& info, const EntryId& cursor);

// A string, status or error reply's text (empty for other types).
std::string_view reply_text(const redisReply& reply);

}  // namespace bscd
