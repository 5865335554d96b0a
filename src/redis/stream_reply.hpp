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

// A string, status or error reply's text (empty for other types).
std::string_view reply_text(const redisReply& reply);

}  // namespace bscd
