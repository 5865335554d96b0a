#pragma once
// One event as every viewer of a project gets it, formatted once and then
// shared (never copied) by all of them, on every event loop: a code from
// the history, or an estimate message (no id: it is no place to resume
// from). Immutable once made, so loops share it without a lock.

#include <memory>
#include <string>
#include <string_view>

#include "core/entry_id.hpp"

namespace bscd {

struct FeedEvent {
    EntryId id;
    bool final = false;
    std::string json;   // the event JSON (docs/architecture.md): a WebSocket message, SSE's data
    std::string sse;    // the whole SSE frame (HTTP/1.0 streams, which know no chunks)
    std::string chunk;  // the frame as one HTTP/1.1 chunk: "<size>\r\n<frame>\r\n"
};

// An event of `type` ("status", "estimate") with `json` as its data; an
// empty id writes no id: line.
std::shared_ptr<const FeedEvent> make_feed_event(const EntryId& id, std::string_view type,
                                                 std::string json, bool final);

// `bytes` as one HTTP/1.1 chunk, for what every viewer is sent alike.
std::string http_chunk(std::string_view bytes);

}  // namespace bscd
