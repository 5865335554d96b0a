// Edge cases of the gateway found in review: each test is a sequence that
// once lost events, leaked a subscription or broke a protocol rule.

#include <string>
#include <vector>

#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/producer_client.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

class GatewayEdgeTest : public GatewayTest {
protected:
    // `count` codes 10, pipelined through one connection; all answered OK.
    void send_many(std::size_t count) {
        ProducerClient producer(socket_path());
        std::string requests;
        for (std::size_t i = 0; i < count; ++i) {
            requests += "10\n";
        }
        producer.write(requests);
        const std::string replies = producer.read_lines(count, 30s);
        ASSERT_EQ(replies.find("ERR"), std::string::npos) << replies.substr(0, 200);
    }

    long long subscribers() {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-demo"}).elements.at(1).integer;
    }
};

TEST_F(GatewayEdgeTest, WebSocketGetsEventsThatArriveWhileItReplaysTheHistory) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    ASSERT_NO_FATAL_FAILURE(send_many(999));
    wait_history(999);
    WsClient viewer(gateway_port(), demo_ws_path);
    send_codes({"1000"});  // while the 999 go out one message each
    std::size_t messages = 0;
    while (viewer.next_text(10s)) {
        ++messages;
    }
    EXPECT_EQ(messages, 1000u) << "the final code must come after the replay";
    EXPECT_TRUE(viewer.wait_closed(5s));
    EXPECT_EQ(viewer.close_code(), 1000);
}

TEST_F(GatewayEdgeTest, FailedWebSocketHandshakeLeavesNoSubscription) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    // An upgrade without Host: the gateway's own checks pass it, Beast's
    // handshake fails it after the project's feed was opened for it.
    const HttpResponse response =
        http_raw(gateway_port(), "GET " + demo_ws_path +
                                     " HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(response.status, 400) << response.describe();
    EXPECT_TRUE(wait_until([&] { return subscribers() == 0; }, 10s))
        << "bscd-demo is still subscribed with no viewer";
    EXPECT_TRUE(
        wait_until([&] { return gateway_metric("bscd_gateway_projects_followed") == 0.0; }));
}

TEST_F(GatewayEdgeTest, ResumesInsideAHistoryLongerThanOneRead) {
    // The gateway reads the history 1,000 entries at a time: a viewer placed
    // after the first read would get the later entries twice.
    auto daemon = start_bscd({"--history-length", "10000"});
    auto gateway = start_gateway();
    ASSERT_NO_FATAL_FAILURE(send_many(2500));
    const auto ids = wait_history(2500);
    SseClient viewer(gateway_port(), demo_events_path, {.headers = {{"Last-Event-ID", ids[1999]}}});
    ASSERT_EQ(viewer.status(), 200);
    const auto events = viewer.events(500, 10s);
    ASSERT_EQ(events.size(), 500u) << "the 500 after the resume point";
    EXPECT_EQ(events.front().id, ids[2000]);
    EXPECT_EQ(events.back().id, ids[2499]);
    // And nothing more: the sentinel sent now is the next event.
    send_codes({"20"});
    const auto sentinel = viewer.next_event(10s);
    ASSERT_TRUE(sentinel.has_value()) << "no sentinel";
    EXPECT_EQ(sentinel->id, wait_history(2501).back()) << "more than the 500 came";
}

TEST_F(GatewayEdgeTest, Http10ViewerGetsAStreamWithoutChunks) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    send_codes({"10", "1000"});
    wait_history(2);
    const HttpResponse response =
        http_raw(gateway_port(), "GET " + demo_events_path + " HTTP/1.0\r\n\r\n", 10s);
    EXPECT_EQ(response.status, 200) << response.describe();
    EXPECT_EQ(response.header("Transfer-Encoding"), "") << "HTTP/1.0 knows no chunks";
    // "retry: <1000..3000>\n\n" (drawn for each viewer), then the events.
    ASSERT_EQ(response.body.rfind("retry: ", 0), 0u) << response.body;
    const int retry_ms = std::stoi(response.body.substr(7));
    EXPECT_GE(retry_ms, 1000);
    EXPECT_LE(retry_ms, 3000);
    EXPECT_EQ(response.body.substr(response.body.find('\n'), 6), "\n\nid: ") << response.body;
    EXPECT_NE(response.body.find("\"code\":1000"), std::string::npos) << response.body;
}

TEST_F(GatewayEdgeTest, WebSocketFromAnotherSitesPageIsRefused) {
    auto daemon = start_bscd();
    auto gateway = start_gateway({"--allow-origin", "https://builds.example"});
    const std::string self = "http://127.0.0.1:" + std::to_string(gateway_port());
    EXPECT_THROW(WsClient(gateway_port(), demo_ws_path, {{"Origin", "https://evil.example"}}),
                 std::runtime_error);
    EXPECT_NO_THROW(WsClient(gateway_port(), demo_ws_path, {{"Origin", self}}));
    EXPECT_NO_THROW(WsClient(gateway_port(), demo_ws_path, {{"Origin", "https://builds.example"}}));
    EXPECT_NO_THROW(WsClient(gateway_port(), demo_ws_path));  // a program, not a browser
}

}  // namespace
}  // namespace bscd::test
