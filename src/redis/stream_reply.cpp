#include "redis/stream_reply.hpp"

#include <hiredis/hiredis.h>

namespace bscd {

std::string_view reply_text(const redisReply& reply) {
    if (reply.str == nullptr) {
        return {};
    }
    return {reply.str, static_cast<std::size_t>(reply.len)};
}

bool entries_removed_after(const redisReply& info, const EntryId& cursor) {
    if (info.type != REDIS_REPLY_ARRAY) {
        return true;
    }
    std::optional<long long> length;
    std::optional<long long> added;
    std::optional<EntryId> max_deleted;
    for (std::size_t i = 0; i + 1 < info.elements; i += 2) {
        const std::string_view field = reply_text(*info.element[i]);
        const redisReply& value = *info.element[i + 1];
        if (field == "length" && value.type == REDIS_REPLY_INTEGER) {
            length = value.integer;
        } else if (field == "entries-added" && value.type == REDIS_REPLY_INTEGER) {
            added = value.integer;
        } else if (field == "max-deleted-entry-id") {
            max_deleted = EntryId::parse(reply_text(value));
        }
    }
    if (!length || !added || !max_deleted) {
        return true;
    }
    return *added > *length || *max_deleted > cursor;
}

std::optional<std::vector<StreamEntry>> parse_stream_entries(const redisReply& entries) {
    std::vector<StreamEntry> result;
    if (entries.type != REDIS_REPLY_ARRAY) {
        return result;
    }
    result.reserve(entries.elements);
    for (std::size_t i = 0; i < entries.elements; ++i) {
        const redisReply* entry = entries.element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
            entry->element[1]->type != REDIS_REPLY_ARRAY) {
            return std::nullopt;
        }
        const auto id = EntryId::parse(reply_text(*entry->element[0]));
        if (!id) {
            return std::nullopt;
        }
        StreamEntry parsed{*id, {}};
        const redisReply& fields = *entry->element[1];
        for (std::size_t f = 0; f + 1 < fields.elements; f += 2) {
            parsed.fields.emplace_back(reply_text(*fields.element[f]),
                                       reply_text(*fields.element[f + 1]));
        }
        result.push_back(std::move(parsed));
    }
    return result;
}

}  // namespace bscd
