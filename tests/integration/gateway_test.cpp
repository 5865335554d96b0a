// bscd-gateway (docs/gateway.md) against a real redis-server and a real bscd:
// Server-Sent Events with history and resume, heartbeats, WebSocket, the
// state endpoint, the page, and Redis going away and coming back.

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <signal.h>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string state_path = "/api/v1/projects/demo";

std::string code_name(int code) {
    static const std::map<int, std::string> names{{10, "PREPARED_CHROOT_ENV_CODE"},
                                                  {20, "SET_UP_LOCALE_CODE"},
                                                  {21, "SET_UP_TIMEZONE_CODE"},
                                                  {30, "UPDATED_CODE"},
                                                  {31, "INSTALLED_PACKAGES_CODE"},
                                                  {32, "UPGRADED_CODE"},
                                                  {33, "INSTALLED_KERNEL_CODE"},
                                                  {1000, "SUCCESSFUL_CODE"},
                                                  {1001, "FAILED_CODE"}};
    return names.at(code);
}

// The event JSON (docs/architecture.md, "The event JSON"), for history entry `id` of `code`.
void expect_event_json(const std::string& text, const std::string& id, int code) {
    const json event = json::parse(text, nullptr, false);
    ASSERT_TRUE(event.is_object()) << text;
    std::vector<std::string> keys;
    for (const auto& [key, value] : event.items()) {
        keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"code", "description", "final", "id", "name",
                                              "progress", "project", "ts"}))
        << text;
    EXPECT_EQ(event.value("project", ""), "demo") << text;
    EXPECT_EQ(event.value("id", ""), id) << text;
    EXPECT_EQ(event.value("code", 0), code) << text;
    EXPECT_EQ(event.value("name", ""), code_name(code)) << text;
    EXPECT_FALSE(event.value("description", "").empty()) << text;
    static const std::regex iso8601(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    EXPECT_TRUE(std::regex_match(event.value("ts", ""), iso8601)) << text;
    ASSERT_TRUE(event.contains("progress") && event["progress"].is_number_integer()) << text;
    EXPECT_GE(event["progress"].get<int>(), 0) << text;
    EXPECT_LE(event["progress"].get<int>(), 100) << text;
    EXPECT_EQ(event.value("final", true), code >= 1000) << text;
}

// An SSE event carrying history entry `id` of `code`.
void expect_sse_event(const std::optional<SseEvent>& event, const std::string& id, int code) {
    ASSERT_TRUE(event.has_value()) << "no event for " << id;
    EXPECT_EQ(event->id, id);
    EXPECT_EQ(event->event, "status");
    EXPECT_EQ(event->data_lines, 1);
    EXPECT_TRUE(event->other_lines.empty());
    expect_event_json(event->data, id, code);
}

std::vector<std::string> ids_of(const std::vector<SseEvent>& events) {
    std::vector<std::string> ids;
    ids.reserve(events.size());
    for (const auto& event : events) {
        ids.push_back(event.id);
    }
    return ids;
}

std::vector<std::string> slice(const std::vector<std::string>& ids, std::size_t from,
                               std::size_t to) {
    return {ids.begin() + static_cast<long>(from), ids.begin() + static_cast<long>(to)};
}

class GatewayStreamTest : public GatewayTest {
protected:
    std::vector<std::string> bsc(std::vector<std::string> args) const {
        args.insert(args.begin(), bin("bsc"));
        args.insert(args.end(), {"-H", redis.host(), "-P", std::to_string(redis.port())});
        return args;
    }

    // A viewer of demo resuming with `headers` / `query`, and the ids of
    // its first `expected` events. It stays open in `resumed_viewers`: whether more
    // came (a duplicate, say) is for the sentinel to tell.
    std::vector<std::string> resumed_ids(const HttpHeaders& headers, const std::string& query,
                                         std::size_t expected) {
        auto viewer = std::make_unique<SseClient>(gateway_port(), demo_events_path + query,
                                                  SseClient::Options{.headers = headers});
        EXPECT_EQ(viewer->status(), 200) << viewer->body();
        auto ids = ids_of(viewer->events(expected));
        resumed_viewers.push_back(std::move(viewer));
        return ids;
    }

    // Sends `sentinel` (a code the test sent no other time) and expects it
    // to be the next event of every viewer in `resumed_viewers`: anything more
    // they were sent would have come first.
    void expect_sentinel_next(const std::string& sentinel) {
        const std::size_t before = history_ids().size();
        send_codes({sentinel});
        const std::string id = wait_history(before + 1).back();
        for (std::size_t i = 0; i < resumed_viewers.size(); ++i) {
            const auto event = resumed_viewers[i]->next_event(10s);
            ASSERT_TRUE(event.has_value()) << "viewer " << i << " got no sentinel";
            EXPECT_EQ(event->id, id) << "viewer " << i << " got more before the sentinel";
        }
        resumed_viewers.clear();
    }

    std::vector<std::unique_ptr<SseClient>> resumed_viewers;
};

TEST_F(GatewayStreamTest, SseSendsHistoryThenLiveEventsAndEndsAfterTheFinalCode) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    send_codes({"10", "20", "21"});
    auto ids = wait_history(3);

    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200) << viewer.body();
    EXPECT_TRUE(viewer.header("Content-Type").starts_with("text/event-stream"))
        << viewer.header("Content-Type");
    std::vector<std::string> data;  // each event's JSON
    const auto expect_next = [&](std::size_t index, int code) {
        const auto event = viewer.next_event();
        expect_sse_event(event, ids.at(index), code);
        data.push_back(event ? event->data : "");
    };
    expect_next(0, 10);
    expect_next(1, 20);
    expect_next(2, 21);
    // Drawn for each viewer, so that reconnects spread out.
    EXPECT_GE(viewer.retry(), 1000);
    EXPECT_LE(viewer.retry(), 3000);

    send_codes({"30", "31"});
    ids = wait_history(5);
    expect_next(3, 30);
    expect_next(4, 31);

    send_codes({"1000"});
    ids = wait_history(6);
    expect_next(5, 1000);
    EXPECT_TRUE(viewer.wait_ended(5s)) << "the stream stays open after the final code";
    EXPECT_FALSE(viewer.next_event(0ms).has_value());

    // One JSON shape everywhere: the same events as bsc watch --json prints.
    const auto watched = run(bsc({"watch", "demo", "--json", "--timeout", "10"}));
    ASSERT_EQ(watched.status, 0) << watched.output;
    std::istringstream lines(watched.output);
    std::size_t index = 0;
    for (std::string line; std::getline(lines, line); ++index) {
        ASSERT_LT(index, data.size()) << watched.output;
        EXPECT_EQ(json::parse(line, nullptr, false), json::parse(data[index], nullptr, false))
            << line << "\n"
            << data[index];
    }
    EXPECT_EQ(index, data.size()) << watched.output;
}

TEST_F(GatewayStreamTest, SseResumesAfterLastEventIdOrAfterParameter) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    send_codes({"10", "20", "21", "30"});
    auto ids = wait_history(4);
    {
        SseClient viewer(gateway_port(), demo_events_path);
        ASSERT_EQ(ids_of(viewer.events(4)), ids);
    }  // dropped
    send_codes({"31", "32", "33"});
    ids = wait_history(7);
    const auto after_fourth = slice(ids, 4, 7);

    EXPECT_EQ(resumed_ids({{"Last-Event-ID", ids[3]}}, "", 3), after_fourth);
    EXPECT_EQ(resumed_ids({}, "?after=" + ids[3], 3), after_fourth);
    // The header wins over the parameter.
    EXPECT_EQ(resumed_ids({{"Last-Event-ID", ids[3]}}, "?after=" + ids[0], 3), after_fourth);
    EXPECT_EQ(resumed_ids({}, "?after=0", 7), ids);
    EXPECT_EQ(resumed_ids({{"Last-Event-ID", ids[6]}}, "", 0), std::vector<std::string>{})
        << "a running build, resumed at its last event, has nothing to send yet";
    expect_sentinel_next("40");

    // A finished build resumed after its final event: 204, no stream.
    send_codes({"1000"});
    ids = wait_history(9);
    EXPECT_EQ(resumed_ids({{"Last-Event-ID", ids[3]}}, "", 5), slice(ids, 4, 9));
    // Nothing after the final event: the stream ends.
    EXPECT_TRUE(resumed_viewers.back()->wait_ended(5s));
    EXPECT_FALSE(resumed_viewers.back()->next_event(0ms).has_value());
    const HttpResponse header =
        http_get(gateway_port(), demo_events_path, {{"Last-Event-ID", ids[8]}});
    EXPECT_EQ(header.status, 204) << header.describe();
    EXPECT_TRUE(header.body.empty());
    const HttpResponse parameter = http_get(gateway_port(), demo_events_path + "?after=" + ids[8]);
    EXPECT_EQ(parameter.status, 204) << parameter.describe();
}

TEST_F(GatewayStreamTest, IdleStreamsGetHeartbeats) {
    auto gateway = start_gateway({"--heartbeat", "1"});
    SseClient viewer(gateway_port(), demo_events_path);  // no history: stays open, idle
    ASSERT_EQ(viewer.status(), 200) << viewer.body();
    EXPECT_EQ(viewer.next_comment(3s), "keepalive") << viewer.body();
    EXPECT_FALSE(viewer.next_event(0ms).has_value());
    EXPECT_FALSE(viewer.ended());

    WsClient socket(gateway_port(), demo_ws_path);
    EXPECT_FALSE(socket.next_text(3s).has_value());
    EXPECT_GE(socket.pings(), 1) << "no ping on an idle WebSocket within 3 s";
    EXPECT_FALSE(socket.closed()) << socket.close_error().message();
}

TEST_F(GatewayStreamTest, WebSocketSendsTheSameEventsAndClosesNormallyAfterTheFinalCode) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    send_codes({"10", "20", "21"});
    auto ids = wait_history(3);

    WsClient socket(gateway_port(), demo_ws_path);
    const int codes[] = {10, 20, 21, 30, 1000};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto message = socket.next_text();
        ASSERT_TRUE(message.has_value())
            << "message " << i << ": " << socket.close_error().message();
        expect_event_json(*message, ids[i], codes[i]);
    }
    WsClient resumed(gateway_port(), demo_ws_path + "?after=" + ids[1]);
    EXPECT_TRUE(wait_until(
        [&] { return gateway_metric(R"(bscd_gateway_viewers{transport="websocket"})") == 2.0; }));

    send_codes({"30"});
    ids = wait_history(4);
    for (WsClient* client : {&socket, &resumed}) {
        const std::size_t first = client == &socket ? 3 : 2;
        for (std::size_t i = first; i < 4; ++i) {
            const auto message = client->next_text();
            ASSERT_TRUE(message.has_value()) << "message " << i;
            expect_event_json(*message, ids[i], codes[i]);
        }
    }
    send_codes({"1000"});
    ids = wait_history(5);
    const auto final_message = socket.next_text();
    ASSERT_TRUE(final_message.has_value());
    expect_event_json(*final_message, ids[4], 1000);
    EXPECT_TRUE(socket.wait_closed(5s)) << "still open after the final code";
    EXPECT_EQ(socket.close_code(), 1000) << socket.close_error().message();
    EXPECT_EQ(socket.binary_messages(), 0);
}

TEST_F(GatewayStreamTest, StateIsWhatBscStatusPrints) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    const HttpResponse unknown = http_get(gateway_port(), state_path);
    EXPECT_EQ(unknown.status, 404) << unknown.describe();
    EXPECT_TRUE(json::parse(unknown.body, nullptr, false).contains("error")) << unknown.body;

    send_codes({"10", "20", "21"});
    wait_history(3);
    HttpResponse state;
    ASSERT_TRUE(wait_until([&] {
        state = http_get(gateway_port(), state_path);
        return state.status == 200 &&
               json::parse(state.body, nullptr, false).value("events", 0) == 3;
    })) << state.describe();
    EXPECT_TRUE(state.header("Content-Type").starts_with("application/json"))
        << state.header("Content-Type");
    const auto status = run(bsc({"status", "demo", "--json"}));
    ASSERT_EQ(status.status, 0) << status.output;
    // The same document, but for the moment each was taken at.
    json from_gateway = json::parse(state.body, nullptr, false);
    json from_bsc = json::parse(status.output, nullptr, false);
    ASSERT_TRUE(from_gateway["estimate"].contains("stage_elapsed_ms")) << state.body;
    ASSERT_TRUE(from_bsc["estimate"].contains("stage_elapsed_ms")) << status.output;
    from_gateway["estimate"].erase("stage_elapsed_ms");
    from_bsc["estimate"].erase("stage_elapsed_ms");
    EXPECT_EQ(from_gateway, from_bsc) << state.body << "\n" << status.output;
}

TEST_F(GatewayStreamTest, PageAndAssets) {
    auto gateway = start_gateway();
    const HttpResponse page = http_get(gateway_port(), "/projects/demo");
    ASSERT_EQ(page.status, 200) << page.describe();
    EXPECT_TRUE(page.header("Content-Type").starts_with("text/html")) << page.describe();
    EXPECT_FALSE(page.header("Content-Security-Policy").empty()) << page.describe();
    EXPECT_NE(page.body.find("<html"), std::string::npos);

    const HttpResponse script = http_get(gateway_port(), "/assets/app.js");
    ASSERT_EQ(script.status, 200) << script.describe();
    EXPECT_NE(script.header("Content-Type").find("javascript"), std::string::npos)
        << script.header("Content-Type");
    EXPECT_FALSE(script.body.empty());

    const HttpResponse style = http_get(gateway_port(), "/assets/style.css");
    ASSERT_EQ(style.status, 200) << style.describe();
    EXPECT_TRUE(style.header("Content-Type").starts_with("text/css")) << style.describe();

    const HttpResponse head = http_request(gateway_port(), "HEAD", "/assets/app.js");
    EXPECT_EQ(head.status, 200) << head.describe();
    EXPECT_EQ(head.header("Content-Length"), std::to_string(script.body.size()));
}

TEST_F(GatewayStreamTest, HealthFollowsRedisAndViewersMissNothingAcrossAnOutage) {
    auto daemon = start_bscd();
    auto gateway = start_gateway();
    EXPECT_EQ(gateway_metric("bscd_gateway_redis_up"), 1.0);
    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200);
    send_codes({"10"});
    auto ids = wait_history(1);
    expect_sse_event(viewer.next_event(), ids[0], 10);

    redis.stop();
    EXPECT_TRUE(health_becomes(503, 10s));
    EXPECT_EQ(gateway_metric("bscd_gateway_redis_up"), 0.0);

    redis.start();  // empty: no persistence
    EXPECT_TRUE(health_becomes(200, 20s));
    // bscd accepts (and queues) while it has not reconnected yet.
    send_codes({"20", "21"});
    ids = wait_history(2);  // the new server's history
    ASSERT_EQ(ids.size(), 2u);
    expect_sse_event(viewer.next_event(15s), ids[0], 20);
    expect_sse_event(viewer.next_event(), ids[1], 21);
    // The sentinel: a duplicate of 20 or 21 would come first.
    send_codes({"30"});
    ids = wait_history(3);
    expect_sse_event(viewer.next_event(), ids[2], 30);
    EXPECT_FALSE(viewer.ended()) << viewer.close_error().message();
    EXPECT_GE(gateway_metric("bscd_gateway_redis_reconnects_total").value_or(0), 1.0);
}

TEST_F(GatewayStreamTest, ExitStatuses) {
    auto gateway = start_gateway();
    const auto taken =
        run({bin("bscd-gateway"), "--listen", "127.0.0.1:" + std::to_string(gateway_port()), "-P",
             std::to_string(redis.port())});
    EXPECT_EQ(taken.status, 1) << "address in use: " << taken.output;
    const auto usage = run({bin("bscd-gateway"), "--no-such-option"});
    EXPECT_EQ(usage.status, 2) << usage.output;

    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200);
    gateway->signal(SIGTERM);
    EXPECT_EQ(gateway->wait(10s), 0) << gateway->output();
    EXPECT_TRUE(viewer.wait_ended(1s));
}

}  // namespace
}  // namespace bscd::test
