// bscd-gateway facing bad input: invalid project names, unknown paths and
// methods, oversized requests, idle and surplus connections, attempts to add
// lines to other viewers' streams, and access tokens (and their secret kept
// out of ps).

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The project endpoints, with {} for the (already encoded) project name.
const std::vector<std::string> project_endpoints{
    "/api/v1/projects/{}/events", "/api/v1/projects/{}/ws", "/api/v1/projects/{}", "/projects/{}"};

std::string with_project(std::string endpoint, const std::string& project) {
    return endpoint.replace(endpoint.find("{}"), 2, project);
}

std::string with_token(const std::string& target, const std::string& token) {
    return std::string(target).append("?token=").append(token);
}

bool is_ws(const std::string& target) {
    return target.find("/ws") != std::string::npos;
}

// The status a GET of `target` gets: streams are read as streams (their head
// only), WebSocket endpoints get a real upgrade request (101 when accepted).
// 0 when there was no answer.
int status_of(int port, const std::string& target, const HttpHeaders& headers = {}) {
    try {
        if (is_ws(target)) {
            const WsClient client(port, target, headers);
            return 101;
        }
        if (target.find("/events") != std::string::npos) {
            const SseClient client(port, target, {.headers = headers});
            return client.status();
        }
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        return what.starts_with("HTTP ") ? std::stoi(what.substr(5)) : 0;
    }
    return http_get(port, target, headers).status;
}

// Every line of an SSE body is one the gateway may write: nothing anyone
// sent can have added a line.
void expect_well_formed_stream(const std::string& body) {
    std::size_t start = 0;
    while (start < body.size()) {
        const auto end = body.find('\n', start);
        if (end == std::string::npos) {
            break;  // an incomplete last line
        }
        std::string line = body.substr(start, end - start);
        start = end + 1;
        EXPECT_EQ(line.find('\r'), std::string::npos) << "a CR inside a line: " << line;
        const bool known = line.empty() || line.starts_with(":") || line.starts_with("retry: ") ||
                           line.starts_with("id: ") || line == "event: status" ||
                           line == "event: estimate" ||
                           (line.starts_with("data: {") &&
                            json::parse(line.substr(6), nullptr, false).is_object());
        EXPECT_TRUE(known) << "unexpected line in a stream: " << line;
    }
}

class GatewayInputTest : public GatewayTest {};

TEST_F(GatewayInputTest, InvalidProjectNamesAre400OnEveryProjectEndpoint) {
    auto gateway = start_gateway();
    const std::vector<std::string> invalid{
        "a..b", "%2e%2e", "%2E.", "%2F",   "a%2Fb",  std::string(129, 'a'),  "%00",       "a%00b",
        "%FF",  "%C3%28", "a b",  "a%20b", "%0D%0A", "demo%0D%0Aevent:%20x", "%E2%82%AC", "%"};
    for (const auto& name : invalid) {
        for (const auto& endpoint : project_endpoints) {
            const std::string target = with_project(endpoint, name);
            EXPECT_EQ(status_of(gateway_port(), target), 400) << target;
        }
    }
    const HttpResponse response = http_get(gateway_port(), "/api/v1/projects/a..b");
    EXPECT_TRUE(json::parse(response.body, nullptr, false).contains("error")) << response.body;
    // Valid names at the limits: unknown projects, not bad requests.
    for (const std::string& name :
         {std::string(128, 'a'), std::string("a.b_c-D9"), std::string("%61%62")}) {
        EXPECT_EQ(status_of(gateway_port(), "/api/v1/projects/" + name), 404) << name;
        EXPECT_EQ(status_of(gateway_port(), "/projects/" + name), 200) << name;
    }
}

TEST_F(GatewayInputTest, UnknownPathsAre404AndOtherMethods405) {
    auto gateway = start_gateway();
    for (const std::string target :
         {"/", "/api", "/api/v1/projects", "/api/v1/projects/demo/other", "/api/v2/projects/demo",
          "/projects/demo/extra", "/assets/nope.js", "/healthz/x"}) {
        const HttpResponse response = http_get(gateway_port(), target);
        EXPECT_EQ(response.status, 404) << target << ": " << response.describe();
        EXPECT_TRUE(json::parse(response.body, nullptr, false).contains("error"))
            << target << ": " << response.body;
    }
    for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
        for (const std::string target :
             {"/healthz", "/api/v1/projects/demo", demo_events_path.c_str(), "/projects/demo",
              "/assets/app.js"}) {
            const HttpResponse response = http_request(gateway_port(), method, target);
            EXPECT_EQ(response.status, 405)
                << method << " " << target << ": " << response.describe();
            EXPECT_NE(response.header("Allow").find("GET"), std::string::npos)
                << response.describe();
            EXPECT_NE(response.header("Allow").find("HEAD"), std::string::npos)
                << response.describe();
        }
    }
    for (const std::string target : {"/healthz", "/metrics", "/projects/demo", "/assets/app.js"}) {
        const HttpResponse get = http_get(gateway_port(), target);
        const HttpResponse head = http_request(gateway_port(), "HEAD", target);
        EXPECT_EQ(head.status, get.status) << "HEAD " << target << ": " << head.describe();
    }
}

TEST_F(GatewayInputTest, MalformedRequestsAre400AndHurtNoOne) {
    auto gateway = start_gateway();
    const std::vector<std::string> malformed{
        "garbage\r\n\r\n",
        "GET\r\n\r\n",
        "GET /healthz HTTP/9.9\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n",
        std::string("\0\x01\x02\xff\r\n\r\n", 8),
        "GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    };
    for (const auto& bytes : malformed) {
        const HttpResponse response = http_raw(gateway_port(), bytes, 3s);
        // 400, or at least a close without an answer: never a success.
        EXPECT_TRUE(response.status == 400 || (response.status == 0 && response.closed))
            << testing::PrintToString(bytes) << ": " << response.describe();
    }
    const HttpResponse old = http_raw(gateway_port(), "GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(old.status, 200) << "HTTP/1.0: " << old.describe();
    EXPECT_TRUE(gateway->running());
    EXPECT_EQ(http_get(gateway_port(), "/healthz").status, 200);
}

TEST_F(GatewayInputTest, OversizedHeadersAre431AndBodies413) {
    auto gateway = start_gateway();
    EXPECT_EQ(http_get(gateway_port(), "/healthz", {{"X-Filler", std::string(7000, 'a')}}).status,
              200);
    const HttpResponse header =
        http_get(gateway_port(), "/healthz", {{"X-Filler", std::string(9000, 'a')}});
    EXPECT_EQ(header.status, 431) << header.describe();
    const HttpResponse many =
        http_get(gateway_port(), "/healthz", HttpHeaders(200, {"X-Filler", std::string(50, 'a')}));
    EXPECT_EQ(many.status, 431) << many.describe();

    EXPECT_EQ(http_request(gateway_port(), "GET", "/healthz", {}, std::string(100, 'b')).status,
              200);
    const HttpResponse body =
        http_request(gateway_port(), "GET", "/healthz", {}, std::string(5000, 'b'));
    EXPECT_EQ(body.status, 413) << body.describe();
    // Refused on the header alone, without waiting for the body.
    HttpConnection connection(gateway_port());
    connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    const HttpResponse announced = connection.read_response(3s);
    EXPECT_EQ(announced.status, 413) << announced.describe();
}

TEST_F(GatewayInputTest, IdleConnectionsAreClosedButStreamsStayOpen) {
    auto daemon = start_bscd();
    auto gateway = start_gateway({"--idle-timeout", "1"});
    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200);

    HttpConnection silent(gateway_port());
    HttpConnection slow_sender(gateway_port());
    slow_sender.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    HttpConnection kept_alive(gateway_port());
    for (int request = 0; request < 2; ++request) {  // keep-alive: two on one connection
        kept_alive.send_request("GET", "/healthz");
        const HttpResponse response = kept_alive.read_response();
        EXPECT_EQ(response.status, 200) << response.describe();
        EXPECT_FALSE(response.closed);
    }
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.wait_closed(5s)) << "a silent connection stays open";
    EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms) << "closed before its time";
    EXPECT_TRUE(slow_sender.wait_closed(5s)) << "a half-sent request keeps the connection open";
    EXPECT_TRUE(kept_alive.wait_closed(5s)) << "an idle keep-alive connection stays open";

    // The stream is past the idle timeout and still serves.
    send_codes({"10"});
    const auto ids = wait_history(1);
    const auto event = viewer.next_event();
    ASSERT_TRUE(event.has_value()) << "the stream was closed: " << viewer.close_error().message();
    EXPECT_EQ(event->id, ids[0]);
}

TEST_F(GatewayInputTest, ConnectionsBeyondTheLimitGet503) {
    auto gateway = start_gateway({"--max-connections", "5"});
    std::vector<std::unique_ptr<HttpConnection>> held;
    for (int i = 0; i < 5; ++i) {
        held.push_back(std::make_unique<HttpConnection>(gateway_port()));
        held.back()->send_request("GET", "/healthz");
        ASSERT_EQ(held.back()->read_response().status, 200) << "connection " << i;
    }
    const HttpResponse refused = http_get(gateway_port(), "/healthz");
    EXPECT_EQ(refused.status, 503) << refused.describe();
    EXPECT_FALSE(refused.header("Retry-After").empty()) << refused.describe();

    held.resize(3);
    HttpResponse served;
    EXPECT_TRUE(wait_until([&] {
        served = http_get(gateway_port(), "/healthz");
        return served.status == 200;
    })) << served.describe();
    EXPECT_GE(gateway_metric("bscd_gateway_connections_refused_total").value_or(0), 1.0);
}

TEST_F(GatewayInputTest, NothingSentCanAddLinesToAStream) {
    auto daemon = start_bscd();
    // Keep-alive comments come only on an idle stream: one is the sign that
    // a stream has had everything the gateway would send it.
    auto gateway = start_gateway({"--heartbeat", "0.2"});
    send_codes({"10"});
    const std::string first = wait_history(1).at(0);
    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200);
    ASSERT_TRUE(viewer.next_event().has_value());

    // A project name with CR LF: refused.
    EXPECT_EQ(status_of(gateway_port(), "/api/v1/projects/demo%0D%0Adata:%20x/events"), 400);
    // Resume positions with CR LF (encoded in the query; in a header only
    // as an obsolete line folding, which must not pass as one value).
    const std::vector<std::pair<HttpHeaders, std::string>> attempts{
        {{}, "?after=0%0D%0Adata:%20injected"},
        {{}, "?after=%0Aevent:%20x%0A%0Adata:%20injected"},
        {{{"Last-Event-ID", "0\r\n data: injected"}}, ""},
        {{{"Last-Event-ID", "bogus"}}, ""},
    };
    for (const auto& [headers, query] : attempts) {
        try {
            SseClient attacker(gateway_port(), demo_events_path + query, {.headers = headers});
            if (attacker.status() == 200) {
                EXPECT_TRUE(attacker.next_comment().has_value()) << attacker.body();
                expect_well_formed_stream(attacker.body());
                EXPECT_EQ(attacker.body().find("injected"), std::string::npos) << attacker.body();
            }
        } catch (const std::runtime_error&) {
            // refused: fine
        }
    }
    // An entry in the history not written by bscd, with line breaks in it.
    // (Its id right after the first one: bscd's next id is still greater.)
    const std::string forged_id = first.substr(0, first.find('-')) + "-1000";
    const Reply forged = redis.command({"XADD", "bscd-demo:events", forged_id, "code",
                                        "10\r\ndata: injected", "name", "X\nY", "ts", "1"});
    ASSERT_EQ(forged.str, forged_id);
    redis.command({"PUBLISH", "bscd-demo", "10"});
    send_codes({"20"});
    const auto ids = wait_history(3);
    std::optional<SseEvent> event;
    while ((event = viewer.next_event()) && event->id != ids[2]) {
    }
    EXPECT_TRUE(event.has_value()) << "the stream stopped: " << viewer.body();
    expect_well_formed_stream(viewer.body());
    EXPECT_EQ(viewer.body().find("\ndata: injected"), std::string::npos) << viewer.body();
}

TEST_F(GatewayInputTest, CrossOriginRequestsOnlyFromAllowedOrigins) {
    auto gateway = start_gateway({"--allow-origin", "https://builds.example"});
    const HttpResponse allowed =
        http_get(gateway_port(), "/healthz", {{"Origin", "https://builds.example"}});
    EXPECT_EQ(allowed.header("Access-Control-Allow-Origin"), "https://builds.example")
        << allowed.describe();
    const HttpResponse other =
        http_get(gateway_port(), "/healthz", {{"Origin", "https://evil.example"}});
    EXPECT_FALSE(other.has_header("Access-Control-Allow-Origin")) << other.describe();

    const HttpResponse preflight = http_request(
        gateway_port(), "OPTIONS", demo_events_path,
        {{"Origin", "https://builds.example"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(preflight.status / 100, 2) << preflight.describe();
    EXPECT_EQ(preflight.header("Access-Control-Allow-Origin"), "https://builds.example")
        << preflight.describe();
}

// Tokens: lowercase hex HMAC-SHA256(secret, project), as openssl computes it.
std::string openssl_token(const std::string& secret, const std::string& project) {
    const auto result = run(
        {"sh", "-c", "printf %s '" + project + "' | openssl dgst -sha256 -hmac '" + secret + "'"});
    EXPECT_EQ(result.status, 0) << result.output;
    std::string token = result.output.substr(result.output.rfind(' ') + 1);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    EXPECT_EQ(token.size(), 64u) << result.output;
    return token;
}

TEST_F(GatewayInputTest, TokensGuardEveryProjectEndpoint) {
    const std::string token = openssl_token("s3cret", "demo");
    const auto printed =
        run({bin("bscd-gateway"), "--token-secret", "s3cret", "--print-token", "demo"});
    EXPECT_EQ(printed.status, 0) << printed.output;
    EXPECT_EQ(printed.output, token + "\n");

    auto daemon = start_bscd();
    auto gateway = start_gateway({"--token-secret", "s3cret"});
    send_codes({"10"});
    wait_history(1);
    const std::string other = openssl_token("s3cret", "other");
    std::string wrong = token;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    for (const auto& endpoint : project_endpoints) {
        const std::string target = with_project(endpoint, "demo");
        const int granted = is_ws(target) ? 101 : 200;
        EXPECT_EQ(status_of(gateway_port(), target), 403) << target << " without a token";
        EXPECT_EQ(status_of(gateway_port(), with_token(target, wrong)), 403) << target;
        EXPECT_EQ(status_of(gateway_port(), with_token(target, other)), 403) << target;
        EXPECT_EQ(status_of(gateway_port(), target, {{"Authorization", "Bearer " + wrong}}), 403)
            << target;
        EXPECT_EQ(status_of(gateway_port(), with_token(target, token)), granted) << target;
        EXPECT_EQ(status_of(gateway_port(), target, {{"Authorization", "Bearer " + token}}),
                  granted)
            << target;
    }
    for (const std::string open : {"/healthz", "/metrics", "/assets/app.js", "/assets/style.css"}) {
        EXPECT_EQ(http_get(gateway_port(), open).status, 200) << open;
    }
}

// What ps shows of a process: its arguments, NUL-separated.
std::string command_line(pid_t pid) {
    return read_file("/proc/" + std::to_string(pid) + "/cmdline");
}

TEST_F(GatewayInputTest, ATokenSecretOnTheCommandLineIsHiddenFromPs) {
    const std::string secret = "s3cret-0x61";
    const std::string token = openssl_token(secret, "demo");
    auto daemon = start_bscd();
    send_codes({"10"});
    wait_history(1);
    // Both forms, --token-secret SECRET and --token-secret=SECRET.
    for (const auto& args : {std::vector<std::string>{"--token-secret", secret},
                             std::vector<std::string>{"--token-secret=" + secret}}) {
        auto gateway = start_gateway(args);
        const std::string shown = command_line(gateway->pid());
        EXPECT_EQ(shown.find(secret), std::string::npos) << "the secret in ps: " << shown;
        EXPECT_NE(shown.find(std::string(secret.size(), 'x')), std::string::npos) << shown;
        EXPECT_NE(gateway->output().find("bscd-gateway: warning: a token secret on the command "
                                         "line can be seen by every user (ps); use "
                                         "BSCD_TOKEN_SECRET or --token-secret-file instead"),
                  std::string::npos)
            << gateway->output();
        // The secret itself was read before it was overwritten.
        EXPECT_EQ(status_of(gateway_port(), with_token(demo_events_path, token)), 200);
        EXPECT_EQ(status_of(gateway_port(), demo_events_path), 403);
        EXPECT_EQ(gateway->output().find(secret), std::string::npos) << gateway->output();
    }
}

TEST_F(GatewayInputTest, TheTokenSecretComesFromAFileOrTheEnvironment) {
    const std::string secret = "s3cret-0x62";
    const std::string token = openssl_token(secret, "demo");
    auto daemon = start_bscd();
    send_codes({"10"});
    wait_history(1);
    // Its first line; a CRLF line end is not part of the secret.
    auto gateway =
        start_gateway({"--token-secret-file", dir.write_file("token.secret", secret + "\r\nx")});
    EXPECT_EQ(status_of(gateway_port(), with_token(demo_events_path, token)), 200);
    EXPECT_EQ(status_of(gateway_port(), demo_events_path), 403);
    EXPECT_EQ(command_line(gateway->pid()).find(secret), std::string::npos);
    EXPECT_EQ(gateway->output().find("bscd-gateway: warning"), std::string::npos)
        << gateway->output();

    const auto printed =
        run({bin("bscd-gateway"), "--print-token", "demo"}, {{"BSCD_TOKEN_SECRET", secret}});
    EXPECT_EQ(printed.status, 0) << printed.output;
    EXPECT_EQ(printed.output, token + "\n");

    // As --redis-password-file's: usage errors, exit status 2.
    const std::string missing = dir.file("missing.secret");
    const std::string empty = dir.write_file("empty.secret", "");
    const std::string blank_first = dir.write_file("blank.secret", "\n" + secret + "\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--token-secret-file", missing},
         "--token-secret-file: cannot read " + missing + ": No such file or directory"},
        {{"--token-secret-file", empty},
         "--token-secret-file: " + empty + " has no token secret on its first line"},
        {{"--token-secret-file", blank_first},
         "--token-secret-file: " + blank_first + " has no token secret on its first line"},
        {{"--token-secret-file", dir.write_file("good.secret", secret), "--token-secret", secret},
         "--token-secret excludes --token-secret-file"},
    };
    for (const auto& [args, message] : cases) {
        std::vector<std::string> argv{bin("bscd-gateway"), "--print-token", "demo"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = run(argv);
        EXPECT_EQ(result.status, 2) << message;
        EXPECT_NE(result.output.find(message), std::string::npos) << result.output;
        EXPECT_EQ(result.output.find(secret), std::string::npos) << result.output;
    }
}

}  // namespace
}  // namespace bscd::test
