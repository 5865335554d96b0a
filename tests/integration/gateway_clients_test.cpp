// The test-side decoding of event streams (support/sse_stream.hpp), on
// canned bytes: the gateway tests are only as good as what reads its
// answers. Whatever way the bytes are split, the same events come out.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/sse_stream.hpp"

namespace bscd::test {
namespace {

const std::string chunked_stream =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    "d\r\nretry: 2000\n\n\r\n"
    "2a\r\nid: 1-0\nevent: status\ndata: {\"code\":10}\n\n\r\n"
    "e\r\n: keepalive\n\n\r\n"
    "2a\r\nid: 1-1\r\nevent: status\rdata: {\"code\":20}\n\n\r\n"
    "0\r\n\r\n";

struct Decoded {
    HttpStreamDecoder decoder;
    SseParser parser;
    std::string body;
};

// Feeds `bytes` in pieces of `piece` bytes.
void feed(Decoded& decoded, const std::string& bytes, std::size_t piece) {
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        const std::size_t before = decoded.body.size();
        ASSERT_TRUE(decoded.decoder.feed(std::string_view(bytes).substr(at, piece), decoded.body))
            << decoded.decoder.error();
        decoded.parser.feed(std::string_view(decoded.body).substr(before));
    }
}

TEST(GatewayClientsTest, ChunkedEventStreamSplitAnywhere) {
    for (std::size_t piece = 1; piece <= chunked_stream.size(); ++piece) {
        Decoded decoded;
        feed(decoded, chunked_stream, piece);
        ASSERT_TRUE(decoded.decoder.head_done());
        EXPECT_EQ(decoded.decoder.status(), 200);
        EXPECT_EQ(decoded.decoder.header("content-type"), "text/event-stream");
        EXPECT_TRUE(decoded.decoder.body_done()) << piece;
        EXPECT_EQ(decoded.parser.retry(), 2000);
        ASSERT_EQ(decoded.parser.events().size(), 2u) << piece;
        const SseEvent& first = decoded.parser.events()[0];
        EXPECT_EQ(first.id, "1-0");
        EXPECT_EQ(first.event, "status");
        EXPECT_EQ(first.data, R"({"code":10})");
        EXPECT_EQ(first.data_lines, 1);
        const SseEvent& second = decoded.parser.events()[1];  // CRLF and CR line ends
        EXPECT_EQ(second.id, "1-1");
        EXPECT_EQ(second.event, "status");
        EXPECT_EQ(second.data, R"({"code":20})");
        ASSERT_EQ(decoded.parser.comments().size(), 1u);
        EXPECT_EQ(decoded.parser.comments()[0], "keepalive");
    }
}

TEST(GatewayClientsTest, StreamUntilTheEndOfTheConnectionAndStrayLines) {
    Decoded decoded;
    feed(decoded,
         "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
         "id: 2-0\ndata: a\ndata: b\nextra: x\n\nid: 3-0\ndata: incomplete",
         7);
    EXPECT_FALSE(decoded.decoder.body_done());
    ASSERT_EQ(decoded.parser.events().size(), 1u);
    EXPECT_EQ(decoded.parser.events()[0].data, "a\nb");
    EXPECT_EQ(decoded.parser.events()[0].data_lines, 2);
    EXPECT_EQ(decoded.parser.events()[0].other_lines, std::vector<std::string>{"extra: x"});
    EXPECT_EQ(decoded.parser.partial_line(), "data: incomplete");
}

TEST(GatewayClientsTest, ResponsesWithoutAStream) {
    Decoded no_content;
    feed(no_content, "HTTP/1.1 204 No Content\r\n\r\n", 100);
    EXPECT_EQ(no_content.decoder.status(), 204);
    EXPECT_TRUE(no_content.decoder.body_done());

    Decoded error;
    feed(error,
         "HTTP/1.1 400 Bad Request\r\nContent-Length: 13\r\n\r\n{\"error\":\"x\"}"
         "HTTP/1.1 200 OK",
         5);
    EXPECT_EQ(error.decoder.status(), 400);
    EXPECT_TRUE(error.decoder.body_done());
    EXPECT_EQ(error.body, R"({"error":"x"})");

    HttpStreamDecoder garbage;
    std::string body;
    EXPECT_FALSE(garbage.feed("SSH-2.0-OpenSSH\r\n\r\n", body));
}

}  // namespace
}  // namespace bscd::test
