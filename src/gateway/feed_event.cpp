#include "gateway/feed_event.hpp"

#include <fmt/format.h>

#include "core/sse_frame.hpp"

namespace bscd {

FeedEvent::FeedEvent(const EntryId& event_id, std::string_view type, std::string_view json,
                     bool is_final, Resume resume)
    : id(event_id), final(is_final), resume_(resume == resume_here && id != EntryId{}) {
    const std::string frame = sse_event(resume_ ? id.str() : std::string(), type, json);
    chunk_ = http_chunk(frame);
    sse_at_ = chunk_.find("\r\n") + 2;
    sse_size_ = frame.size();
    // A one-line JSON ends the frame as it is: "data: <json>\n\n".
    const std::size_t tail = json.size() + 2;
    if (frame.size() >= tail &&
        std::string_view(frame).substr(frame.size() - tail, json.size()) == json) {
        json_at_ = sse_at_ + frame.size() - tail;
        json_size_ = json.size();
    } else {
        json_ = json;
    }
}

std::string_view FeedEvent::json() const {
    if (json_at_ == std::string::npos) {
        return json_;
    }
    return std::string_view(chunk_).substr(json_at_, json_size_);
}

std::shared_ptr<const FeedEvent> make_feed_event(const EntryId& id, std::string_view type,
                                                 std::string_view json, bool final) {
    return std::make_shared<const FeedEvent>(id, type, json, final);
}

std::string http_chunk(std::string_view bytes) {
    return fmt::format("{:x}\r\n{}\r\n", bytes.size(), bytes);
}

}  // namespace bscd
