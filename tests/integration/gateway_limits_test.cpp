// The gateway's limits (docs/gateway.md, "Limits"): a client over its
// request rate gets 429 and others are served; behind a trusted proxy the
// client is the one X-Forwarded-For names, and the header of anyone else
// counts for nothing; a project with all its viewer seats taken answers new
// viewers 503 until one leaves, whichever way it leaves. Clients come from
// different loopback addresses (127.0.0.2, ...: all of 127.0.0.0/8 is the
// loopback on Linux). Each test waits on answers or /metrics, never on a
// bare sleep.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

const std::string page = "/projects/demo";
const std::string rate_refusals = R"(bscd_gateway_requests_refused_total{reason="client_rate"})";
const std::string full_refusals =
    R"(bscd_gateway_requests_refused_total{reason="project_viewers"})";
const std::string sse_viewers = R"(bscd_gateway_viewers{transport="sse"})";

class GatewayLimitsTest : public GatewayTest {
protected:
    // GET `target` on a new connection from loopback address `source`.
    HttpResponse get_from(const std::string& source, const std::string& target,
                          const HttpHeaders& headers = {}) {
        HttpConnection connection(gateway_port(), {.source_address = source});
        connection.send_request("GET", target, headers);
        return connection.read_response();
    }

    // Requests `target` from `source` until one is refused: how many were
    // served first (at most `most`), and the refusal (status 0 if none).
    std::pair<int, HttpResponse> serve_until_refused(const std::string& source,
                                                     const std::string& target,
                                                     const HttpHeaders& headers = {},
                                                     int most = 10) {
        for (int served = 0; served < most; ++served) {
            HttpResponse response = get_from(source, target, headers);
            if (response.status != 200) {
                return {served, response};
            }
        }
        return {most, HttpResponse{}};
    }

    double metric(const std::string& series) { return gateway_metric(series).value_or(-1); }
};

// `response` is a JSON error with a Retry-After of at least 1 s.
void expect_refusal(const HttpResponse& response, int status) {
    EXPECT_EQ(response.status, status) << response.describe();
    EXPECT_GE(std::atoi(response.header("Retry-After").c_str()), 1) << response.describe();
    EXPECT_EQ(response.header("Content-Type"), "application/json") << response.describe();
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << response.describe();
    EXPECT_FALSE(body["error"].get<std::string>().empty());
}

TEST_F(GatewayLimitsTest, ClientOverItsRateGets429WhileOthersAreServed) {
    // 3 at once, then 4 a second (a refill may give one more while the burst goes).
    auto gateway = start_gateway({"--client-rate", "4", "--client-burst", "3"});
    const auto [served, refused] = serve_until_refused("127.0.0.3", page);
    EXPECT_GE(served, 3);
    EXPECT_LE(served, 5);
    expect_refusal(refused, 429);
    EXPECT_EQ(refused.header("Retry-After"), "1") << refused.describe();

    // Another address is served; monitoring is never refused.
    EXPECT_EQ(get_from("127.0.0.4", page).status, 200);
    EXPECT_EQ(get_from("127.0.0.3", "/healthz").status, 200);
    EXPECT_EQ(metric(rate_refusals), 1.0);
    EXPECT_EQ(metric(full_refusals), 0.0);
    EXPECT_EQ(metric("bscd_gateway_clients_tracked"), 2.0);

    // Served again once the refill has come (a quarter of a second; Retry-After
    // is whole seconds).
    EXPECT_TRUE(wait_until([&] { return get_from("127.0.0.3", page).status == 200; }, 5s));
    EXPECT_NE(gateway->output().find("Refused 127.0.0.3:"), std::string::npos) << gateway->output();
}

TEST_F(GatewayLimitsTest, ForwardedForNamesTheClientOnlyFromATrustedProxy) {
    auto gateway =
        start_gateway({"--client-rate", "1", "--client-burst", "2", "--trust-proxy", "127.0.0.2"});
    const HttpHeaders client_a{{"X-Forwarded-For", "198.51.100.7"}};
    const HttpHeaders client_b{{"X-Forwarded-For", "198.51.100.8"}};

    // Through the proxy: 198.51.100.7 is refused, not the proxy's other clients.
    const auto [served, refused] = serve_until_refused("127.0.0.2", page, client_a);
    EXPECT_GE(served, 2);
    EXPECT_LE(served, 4);
    expect_refusal(refused, 429);
    EXPECT_EQ(get_from("127.0.0.2", page, client_b).status, 200);
    EXPECT_EQ(get_from("127.0.0.2", page).status, 200);  // the proxy's own request

    // From a peer that is not a trusted proxy the header is ignored: it is
    // counted as itself (served although 198.51.100.7 is refused), and a new
    // name in each request does not get it past its own limit.
    int spoofed = 0;
    HttpResponse answer;
    do {
        answer = get_from("127.0.0.3", page,
                          {{"X-Forwarded-For", "203.0.113." + std::to_string(++spoofed)}});
    } while (answer.status == 200 && spoofed < 10);
    EXPECT_GE(spoofed, 3);  // two served at least, then the refusal
    EXPECT_LE(spoofed, 5);
    expect_refusal(answer, 429);

    EXPECT_EQ(metric(rate_refusals), 2.0);
    const std::string log = gateway->output();
    EXPECT_NE(log.find("Refused 198.51.100.7 (via 127.0.0.2:"), std::string::npos) << log;
    EXPECT_NE(log.find("Refused 127.0.0.3:"), std::string::npos) << log;
    EXPECT_EQ(log.find("203.0.113."), std::string::npos) << log;
}

TEST_F(GatewayLimitsTest, FullProjectAnswersNewViewers503UntilASeatIsFree) {
    auto daemon = start_bscd();
    auto gateway = start_gateway({"--max-project-viewers", "2"});
    auto first = std::make_unique<SseClient>(gateway_port(), demo_events_path);
    SseClient second(gateway_port(), demo_events_path);
    ASSERT_EQ(first->status(), 200);
    ASSERT_EQ(second.status(), 200);

    // A third viewer of demo, over SSE or WebSocket: 503, with Retry-After.
    SseClient third(gateway_port(), demo_events_path);
    EXPECT_TRUE(third.wait_ended(5s));
    HttpResponse refused;
    refused.status = third.status();
    refused.body = third.body();
    for (const auto& [name, value] : third.headers()) {
        refused.headers.emplace_back(name, value);
    }
    expect_refusal(refused, 503);
    const int retry_after = std::atoi(refused.header("Retry-After").c_str());
    EXPECT_TRUE(retry_after >= 5 && retry_after <= 15) << refused.describe();
    HttpConnection upgrade(gateway_port());
    upgrade.send_request("GET", demo_ws_path,
                         {{"Upgrade", "websocket"},
                          {"Connection", "Upgrade"},
                          {"Sec-WebSocket-Version", "13"},
                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
    expect_refusal(upgrade.read_response(), 503);

    // Other projects are served.
    SseClient other(gateway_port(), "/api/v1/projects/other/events");
    EXPECT_EQ(other.status(), 200);
    EXPECT_EQ(metric(sse_viewers), 3.0);
    EXPECT_EQ(metric(full_refusals), 2.0);

    // A viewer that leaves gives its seat back, once the gateway has seen it go.
    first.reset();
    ASSERT_TRUE(wait_until([&] { return metric(sse_viewers) == 2.0; }, 5s)) << metric(sse_viewers);
    SseClient fourth(gateway_port(), demo_events_path);
    EXPECT_EQ(fourth.status(), 200);
    SseClient fifth(gateway_port(), demo_events_path);
    EXPECT_EQ(fifth.status(), 503);

    // So do viewers whose stream the build's end closes.
    send_codes({"10", "1000"});
    EXPECT_TRUE(second.wait_ended(5s));
    EXPECT_TRUE(fourth.wait_ended(5s));
    ASSERT_TRUE(wait_until([&] { return metric(sse_viewers) == 1.0; }, 5s)) << metric(sse_viewers);
    SseClient after_the_end(gateway_port(), demo_events_path);
    EXPECT_EQ(after_the_end.status(), 200);
    EXPECT_EQ(after_the_end.events(2).size(), 2U);

    EXPECT_EQ(metric(full_refusals), 3.0);
    EXPECT_EQ(metric(rate_refusals), 0.0);
    const std::string log = gateway->output();
    EXPECT_NE(log.find("a viewer of project \"demo\""), std::string::npos) << log;
}

TEST_F(GatewayLimitsTest, BadLimitOptionsAreUsageErrors) {
    for (const auto& option :
         std::vector<std::vector<std::string>>{{"--client-rate", "-1"},
                                               {"--client-burst", "0"},
                                               {"--trust-proxy", "proxy.example.org"},
                                               {"--trust-proxy", "10.0.0.0/33"},
                                               {"--max-project-viewers", "-2"}}) {
        // A free port, should a value pass: it must not take anyone's 8080.
        std::vector<std::string> argv{bin("bscd-gateway"), "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), option.begin(), option.end());
        const auto result = run(argv, {}, 3s);
        EXPECT_EQ(result.status, 2) << option[0] << " " << option[1] << ": " << result.output;
    }
}

}  // namespace
}  // namespace bscd::test
