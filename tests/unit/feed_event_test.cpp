#include "gateway/feed_event.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(FeedEventTest, TheFrameAndTheJsonAreViewsOfTheOneChunk) {
    const std::string json = R"({"project":"demo","code":10})";
    const auto event = make_feed_event(EntryId{5, 1}, "status", json, false);
    const std::string frame = "id: 5-1\nevent: status\ndata: " + json + "\n\n";
    EXPECT_EQ(event->sse(), frame);
    EXPECT_EQ(event->chunk(), http_chunk(frame));
    EXPECT_EQ(event->json(), json);
    EXPECT_EQ(event->id, (EntryId{5, 1}));
    EXPECT_FALSE(event->final);
}

TEST(FeedEventTest, NoIdWritesNoIdLine) {
    const auto event = make_feed_event(EntryId{}, "estimate", "{}", true);
    EXPECT_EQ(event->sse(), "event: estimate\ndata: {}\n\n");
    EXPECT_EQ(event->json(), "{}");
    EXPECT_TRUE(event->final);
}

TEST(FeedEventTest, JsonWithLineBreaksIsKeptAsItIs) {
    const auto event = make_feed_event(EntryId{1, 0}, "status", "{\n}", false);
    EXPECT_EQ(event->sse(), "id: 1-0\nevent: status\ndata: {\ndata: }\n\n");
    EXPECT_EQ(event->json(), "{\n}");
}

}  // namespace
}  // namespace bscd
