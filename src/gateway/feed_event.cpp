#include "gateway/feed_event.hpp"

#include <fmt/format.h>

#include "core/sse_frame.hpp"

namespace bscd {

std::shared_ptr<const FeedEvent> make_feed_event(const EntryId& id, std::string_view type,
                                                 std::string json, bool final) {
    auto event = std::make_shared<FeedEvent>();
    event->id = id;
    event->final = final;
    event->json = std::move(json);
    event->sse = sse_event(id == EntryId{} ? std::string() : id.str(), type, event->json);
    event->chunk = http_chunk(event->sse);
    return event;
}

std::string http_chunk(std::string_view bytes) {
    return fmt::format("{:x}\r\n{}\r\n", bytes.size(), bytes);
}

}  // namespace bscd
