#include "core/sse_frame.hpp"

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(SseFrame, EventHasIdTypeAndDataThenBlankLine) {
    EXPECT_EQ(sse_event("1-0", "status", R"({"code":10})"),
              "id: 1-0\nevent: status\ndata: {\"code\":10}\n\n");
}

TEST(SseFrame, LineBreaksInDataBecomeSeparateDataFields) {
    // A browser joins data fields with LF: the payload survives, and no line
    // of it can be read as a field of its own (id:, event:, retry:).
    EXPECT_EQ(sse_event("1-0", "status", "a\nid: 9-9\r\nevent: x\rb"),
              "id: 1-0\nevent: status\ndata: a\ndata: id: 9-9\ndata: event: x\ndata: b\n\n");
}

TEST(SseFrame, LineBreaksAndNulsAreDroppedFromIdAndType) {
    const std::string_view type("sta\rtus\0x\0", 10);
    EXPECT_EQ(sse_event("1-0\n\ndata: x", type, "d"),
              "id: 1-0data: x\nevent: statusx\ndata: d\n\n");
}

TEST(SseFrame, AnEventWithoutIdLeavesTheResumePointAlone) {
    // An empty id: field would reset the browser's Last-Event-ID.
    EXPECT_EQ(sse_event("", "estimate", "{}"), "event: estimate\ndata: {}\n\n");
}

TEST(SseFrame, CommentIsOneLine) {
    EXPECT_EQ(sse_comment("keepalive"), ": keepalive\n\n");
    EXPECT_EQ(sse_comment("a\nb"), ": ab\n\n");
}

}  // namespace
}  // namespace bscd
