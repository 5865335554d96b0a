#pragma once
// One event as every viewer of a project gets it, formatted once and then
// shared (never copied) by all of them, on every event loop: a code from
// the history, or an estimate message (no id: it is no place to resume
// from). Immutable once made, so loops share it without a lock.
//
// A feed keeps thousands of these, so each is one string: the HTTP/1.1
// chunk, in which the SSE frame and the event JSON are views.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/entry_id.hpp"

namespace bscd {

class FeedEvent {
public:
    // Whether a viewer resumes from the event's id (status events), or it
    // only sorts the event among them (gap events; estimates have no id).
    enum Resume : bool { no_resume = false, resume_here = true };

    // An event of `type` ("status", "estimate", "gap") with `json` as its
    // data; an id: line only for a place to resume from.
    FeedEvent(const EntryId& id, std::string_view type, std::string_view json, bool final,
              Resume resume = resume_here);

    EntryId id;
    bool final = false;
    // The id is a place to resume from: it is written (SSE's id: line).
    [[nodiscard]] bool resume_point() const { return resume_; }

    // The event JSON (docs/architecture.md): a WebSocket message, SSE's data.
    [[nodiscard]] std::string_view json() const;
    // The whole SSE frame (HTTP/1.0 streams, which know no chunks).
    [[nodiscard]] std::string_view sse() const {
        return std::string_view(chunk_).substr(sse_at_, sse_size_);
    }
    // The frame as one HTTP/1.1 chunk: "<size>\r\n<frame>\r\n".
    [[nodiscard]] std::string_view chunk() const { return chunk_; }

private:
    bool resume_ = true;
    std::string chunk_;
    std::size_t sse_at_ = 0;
    std::size_t sse_size_ = 0;
    // Where the JSON is in chunk_; npos when the frame does not hold it as
    // it is (line breaks: never the gateway's own JSON), and json_ does.
    std::size_t json_at_ = std::string::npos;
    std::size_t json_size_ = 0;
    std::string json_;
};

// An event with an id to resume from; an empty id (estimates) is none.
std::shared_ptr<const FeedEvent> make_feed_event(const EntryId& id, std::string_view type,
                                                 std::string_view json, bool final);

// `bytes` as one HTTP/1.1 chunk, for what every viewer is sent alike.
std::string http_chunk(std::string_view bytes);

}  // namespace bscd
