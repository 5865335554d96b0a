// bscd-gateway against hostile clients, one table row per behaviour: slow
// senders, header floods, oversized and lying bodies, traversal and encoding
// tricks in names, invalid UTF-8, line breaks meant for a stream or a header,
// WebSocket abuse. After every row a well-behaved viewer still gets a code
// sent just then, and at the end its stream holds exactly the lines it
// should. Then the gateway out of descriptors: 503, and back.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/process_sockets.hpp"
#include "support/sse_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The gateway's --idle-timeout in these tests, and how much later than that
// a connection may be closed on a loaded machine and still count as "cut
// by the idle timeout" (rather than held open for good).
constexpr auto idle_timeout = 1s;
constexpr auto idle_margin = 10s;

// "Closed without an answer" in a row's expected statuses.
constexpr int no_answer = 0;

// Sends `head` (a request's start) and then one byte at a time, never ending
// the header; waits for the gateway to cut the connection. Status 0 and
// closed when it did so without answering.
HttpResponse trickle_header(HttpConnection& connection, const std::string& head) {
    const auto deadline = std::chrono::steady_clock::now() + idle_timeout + idle_margin;
    try {
        connection.send(head);
        while (std::chrono::steady_clock::now() < deadline) {
            HttpResponse response = connection.read_response(100ms);
            if (response.status != 0 || response.closed) {
                return response;
            }
            connection.send("a");
        }
    } catch (const std::runtime_error&) {
        // The write failed: the gateway closed first.
        HttpResponse response = connection.read_response(1s);
        response.closed = response.closed || connection.closed();
        return response;
    }
    HttpResponse response;
    response.error =
        "still open after the idle timeout and " + std::to_string(idle_margin.count()) + " s more";
    return response;
}

// Sends `bytes` and waits for an answer or the connection's end, for longer
// than the idle timeout: a request the gateway waits for in vain is cut.
HttpResponse send_and_wait(int port, const std::string& bytes) {
    return http_raw(port, bytes, idle_timeout + idle_margin);
}

std::string request(const std::string& target, const std::string& headers = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

// A WebSocket upgrade of `target`, as a browser sends it, plus `headers`.
std::string upgrade(const std::string& target, const std::string& headers = {}) {
    return request(target,
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                       headers);
}

// A masked client frame header announcing `length` payload bytes (RFC 6455
// 5.2), the mask zero.
std::string frame_header(std::uint8_t first, std::uint64_t length) {
    std::string header(1, static_cast<char>(first));
    if (length < 126) {
        header += static_cast<char>(0x80 | length);
    } else {
        header += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            header += static_cast<char>((length >> shift) & 0xff);
        }
    }
    header.append(4, '\0');
    return header;
}

// The status code of the close frame among the server's (unmasked)
// WebSocket frames in `bytes`; nullopt when there is none.
std::optional<int> close_code(std::string_view bytes) {
    while (bytes.size() >= 2) {
        const auto opcode = static_cast<std::uint8_t>(bytes[0]) & 0x0f;
        std::uint64_t length = static_cast<std::uint8_t>(bytes[1]) & 0x7f;
        std::size_t at = 2;
        const std::size_t extra = length == 126 ? 2 : length == 127 ? 8 : 0;
        if (bytes.size() < at + extra) {
            return std::nullopt;
        }
        if (extra > 0) {
            length = 0;
            for (std::size_t i = 0; i < extra; ++i) {
                length = length << 8 | static_cast<std::uint8_t>(bytes[at + i]);
            }
            at += extra;
        }
        if (bytes.size() - at < length) {
            return std::nullopt;
        }
        if (opcode == 0x8 && length >= 2) {
            return static_cast<std::uint8_t>(bytes[at]) << 8 |
                   static_cast<std::uint8_t>(bytes[at + 1]);
        }
        bytes.remove_prefix(at + length);
    }
    return std::nullopt;
}

// Upgrades to demo's WebSocket, sends `frame`, and reads until the gateway
// closes: 101 and closed when it did, with the close frame's code in `error`
// unless it is `code`.
HttpResponse websocket_abuse(int port, const std::string& headers, const std::string& frame,
                             int code) {
    HttpConnection connection(port);
    connection.send(upgrade(demo_ws_path, "Sec-WebSocket-Version: 13\r\n" + headers));
    HttpResponse response = connection.read_response();
    if (response.status != 101) {
        return response;
    }
    std::string frames = connection.take_pending();
    connection.send(frame);
    const auto deadline = BlockingSocket::Clock::now() + idle_margin;
    while (connection.socket().read_some(frames, deadline)) {
    }
    response.closed = connection.closed();
    const auto received = close_code(frames);
    if (received != code) {
        response.status = 0;
        response.error = "close code " + std::to_string(received.value_or(0)) + ", expected " +
                         std::to_string(code);
    }
    return response;
}

struct Row {
    std::string name;
    std::function<HttpResponse(int port)> act;
    std::set<int> statuses;  // acceptable answers; no_answer: closed without one
    // The gateway must have closed the connection too (after the answer).
    bool closed = false;
};

class GatewayHostileTest : public GatewayTest {
protected:
    std::string token() {
        const auto printed = run(
            {bin("bscd-gateway"), "--token-secret", test_token_secret, "--print-token", "demo"});
        EXPECT_EQ(printed.status, 0) << printed.output;
        return printed.output.substr(0, printed.output.find('\n'));
    }

    // The gateway serves: a code sent now reaches `viewer` (no other event
    // comes first), /healthz answers, and only demo's channel is followed.
    void expect_serving(SseClient& viewer, Process& gateway, const std::string& after) {
        ASSERT_TRUE(gateway.running()) << "the gateway died after " << after << ":\n"
                                       << gateway.output();
        const std::size_t before = history_ids().size();
        send_codes({"10"});
        const auto ids = wait_history(before + 1);
        const auto event = viewer.next_event(10s);
        ASSERT_TRUE(event.has_value())
            << "the viewer got nothing after " << after << ": " << viewer.close_error().message();
        EXPECT_EQ(event->id, ids.back()) << "after " << after;
        const HttpResponse health = http_get(gateway_port(), "/healthz");
        EXPECT_EQ(health.status, 200) << "after " << after << ": " << health.describe();
        const Reply channels = redis.command({"PUBSUB", "CHANNELS", "*"});
        ASSERT_EQ(channels.elements.size(), 1u) << "after " << after;
        EXPECT_EQ(channels.elements[0].str, "bscd-demo") << "after " << after;
    }
};

// What any answer to a hostile request must be: a JSON error body (when it
// is an error), no file from outside the assets, no header a client wrote.
void expect_harmless(const HttpResponse& response, const std::string& row) {
    if (response.status >= 400) {
        const json body = json::parse(response.body, nullptr, false);
        EXPECT_TRUE(body.is_object() && body.contains("error"))
            << row << ": not a JSON error: " << response.body;
        EXPECT_EQ(response.header("Content-Type"), "application/json") << row;
    }
    EXPECT_EQ(response.body.find("root:"), std::string::npos) << row << ": " << response.body;
    EXPECT_NE(response.header("Content-Type"), "text/event-stream; charset=utf-8") << row;
    for (const auto& [name, value] : response.headers) {
        EXPECT_NE(name, "Set-Cookie") << row;
        EXPECT_EQ(name.find("Injected"), std::string::npos) << row;
        EXPECT_EQ(value.find("injected"), std::string::npos) << row << ": " << name;
    }
}

// Every line of the stream is one the gateway writes, and its events are
// exactly the history's, in order: "retry: <1000..3000>", then per event "id:",
// "event: status", "data: {JSON with that id}" and a blank line, with only
// ": keepalive" comments and estimates ("event: estimate", "data: {JSON of
// type estimate}", no id) between events.
void expect_exact_stream(const std::string& body, const std::vector<std::string>& history) {
    std::vector<std::string> lines;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        ASSERT_EQ(line.find('\r'), std::string::npos) << "a CR in the stream: " << line;
        lines.push_back(line);
    }
    ASSERT_GE(lines.size(), 2u) << body;
    ASSERT_EQ(lines[0].rfind("retry: ", 0), 0u) << lines[0];
    EXPECT_GE(std::stoi(lines[0].substr(7)), 1000);
    EXPECT_LE(std::stoi(lines[0].substr(7)), 3000);
    EXPECT_EQ(lines[1], "");
    std::vector<std::string> ids;
    for (std::size_t i = 2; i < lines.size();) {
        if (lines[i] == ": keepalive") {
            ASSERT_LT(i + 1, lines.size());
            EXPECT_EQ(lines[i + 1], "");
            i += 2;
            continue;
        }
        if (lines[i] == "event: estimate") {
            ASSERT_LT(i + 2, lines.size()) << "an incomplete estimate at line " << i;
            ASSERT_TRUE(lines[i + 1].starts_with("data: ")) << "line " << i + 1;
            const json data = json::parse(lines[i + 1].substr(6), nullptr, false);
            EXPECT_TRUE(data.is_object() && data.value("type", "") == "estimate") << lines[i + 1];
            EXPECT_EQ(lines[i + 2], "") << "line " << i + 2;
            i += 3;
            continue;
        }
        ASSERT_LT(i + 3, lines.size()) << "an incomplete event at line " << i;
        ASSERT_TRUE(lines[i].starts_with("id: ")) << "line " << i << ": " << lines[i];
        const std::string id = lines[i].substr(4);
        EXPECT_EQ(lines[i + 1], "event: status") << "line " << i + 1;
        ASSERT_TRUE(lines[i + 2].starts_with("data: ")) << "line " << i + 2 << ": " << lines[i + 2];
        const json data = json::parse(lines[i + 2].substr(6), nullptr, false);
        EXPECT_TRUE(data.is_object() && data.value("id", "") == id) << lines[i + 2];
        EXPECT_EQ(lines[i + 3], "") << "line " << i + 3;
        ids.push_back(id);
        i += 4;
    }
    EXPECT_EQ(ids, history);
}

TEST_F(GatewayHostileTest, EveryRowIsAnsweredAsExpectedAndAViewerKeepsItsStream) {
    raise_open_files_limit();  // the slowloris rows hold hundreds of connections
    auto daemon = start_bscd();
    auto gateway = start_gateway({"--idle-timeout", "1", "--token-secret", test_token_secret});
    const std::string good = token();
    const std::string bearer = "Authorization: Bearer " + good + "\r\n";
    send_codes({"10"});
    wait_history(1);
    SseClient viewer(gateway_port(), demo_events_path,
                     {.headers = {{"Authorization", "Bearer " + good}}});
    ASSERT_EQ(viewer.status(), 200) << viewer.body();
    ASSERT_TRUE(viewer.next_event().has_value());

    const auto get = [](const std::string& target, const std::string& headers = {}) {
        return [bytes = request(target, headers)](int port) { return send_and_wait(port, bytes); };
    };
    const auto raw = [](const std::string& bytes) {
        return [bytes](int port) { return send_and_wait(port, bytes); };
    };
    const std::string many_small_headers = [] {
        std::string headers;
        for (int i = 0; i < 3000; ++i) {
            headers += "X-" + std::to_string(i) + ": a\r\n";
        }
        return headers;
    }();
    const std::string empty_headers_within_limit = [] {
        std::string headers;
        for (int i = 0; i < 1000; ++i) {
            headers += "X:\r\n";
        }
        return headers;
    }();
    const std::string chunks_beyond_limit = [] {
        std::string body;
        for (int i = 0; i < 10; ++i) {
            body += "3e8\r\n" + std::string(1000, 'b') + "\r\n";
        }
        return body + "0\r\n\r\n";
    }();

    const std::vector<Row> rows{
        // Slow senders.
        {"slowloris: a header trickled a byte at a time, never finished",
         [](int port) {
             HttpConnection connection(port);
             return trickle_header(connection, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
         },
         {no_answer},
         true},
        {"slowloris: 300 connections at once, while a normal client is served",
         [this](int port) {
             constexpr std::size_t count = 300;
             std::vector<std::unique_ptr<HttpConnection>> slow;
             for (std::size_t i = 0; i < count; ++i) {
                 slow.push_back(std::make_unique<HttpConnection>(port));
                 slow.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a");
             }
             // Answered while all of them are open: the gateway counts them.
             const auto open = gateway_metric("bscd_gateway_connections");
             HttpResponse result;
             if (!open || *open < count) {
                 result.error = "the normal client was not served with the slow ones open (" +
                                std::to_string(open.value_or(-1)) + " connections)";
                 return result;
             }
             for (auto& connection : slow) {
                 result = trickle_header(*connection, "");
                 if (result.status != 0 || !result.closed) {
                     return result;
                 }
             }
             return result;
         },
         {no_answer},
         true},
        {"a request line, then nothing", raw("GET /healthz HTTP/1.1\r\n"), {no_answer}, true},
        {"a connection that sends nothing", raw(""), {no_answer}, true},

        // Header floods.
        {"one 9 KiB header", get("/healthz", "X-Big: " + std::string(9000, 'a') + "\r\n"), {431}},
        {"a 100 KiB header line, never ended",
         raw("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(100'000, 'a')),
         {431}},
        {"3,000 small headers", get("/healthz", many_small_headers), {431}},
        {"1,000 empty headers within 8 KiB (served)",
         get("/healthz", empty_headers_within_limit),
         {200}},
        {"a 10 KiB request target", get("/projects/" + std::string(10'000, 'a')), {414, 431}},

        // Bodies.
        {"Content-Length beyond the limit", get("/healthz", "Content-Length: 1000000\r\n"), {413}},
        {"Content-Length overflowing 64 bits",
         get("/healthz", "Content-Length: 99999999999999999999999\r\n"),
         {400, 413}},
        {"a chunked body beyond the limit",
         raw(request("/healthz", "Transfer-Encoding: chunked\r\n") + chunks_beyond_limit),
         {413}},
        {"Content-Length promising 4,000 bytes, 10 sent",
         raw(request("/healthz", "Content-Length: 4000\r\n") + "0123456789"),
         {no_answer},
         true},
        {"two different Content-Lengths",
         raw(request("/healthz", "Content-Length: 1\r\nContent-Length: 2\r\n") + "ab"),
         {400}},
        {"Content-Length with chunked (request smuggling)",
         raw(request("/healthz", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") +
             "0\r\n\r\n"),
         {400}},

        // Traversal and encoding tricks: never a file from outside the assets.
        {"/assets/../../etc/passwd", get("/assets/../../etc/passwd"), {400, 404}},
        {"/assets/..%2f..%2fetc%2fpasswd", get("/assets/..%2f..%2fetc%2fpasswd"), {400, 404}},
        {"/assets/%2e%2e/%2e%2e/etc/passwd", get("/assets/%2e%2e/%2e%2e/etc/passwd"), {400, 404}},
        {"/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
         get("/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
         {400, 404}},
        {"/assets/%252e%252e%252fetc%252fpasswd (double encoding)",
         get("/assets/%252e%252e%252fetc%252fpasswd"),
         {400, 404}},
        {"/assets/%c0%ae%c0%ae%c0%afetc%c0%afpasswd (overlong UTF-8)",
         get("/assets/%c0%ae%c0%ae%c0%afetc%c0%afpasswd"),
         {400, 404}},
        {"/assets/..\\..\\etc\\passwd", get("/assets/..\\..\\etc\\passwd"), {400, 404}},
        {"/assets/..%5c..%5cetc%5cpasswd", get("/assets/..%5c..%5cetc%5cpasswd"), {400, 404}},
        {"/assets/app.js%00.png", get("/assets/app.js%00.png"), {400, 404}},
        {"/assets/.%2fapp.js", get("/assets/.%2fapp.js"), {400, 404}},
        {"/assets//etc/passwd", get("/assets//etc/passwd"), {400, 404}},
        {"/api/v1/projects/../events", get("/api/v1/projects/../events", bearer), {400}},
        {"/api/v1/projects/%2e%2e/events", get("/api/v1/projects/%2e%2e/events", bearer), {400}},
        {"/api/v1/projects/..%2f..%2fetc/events",
         get("/api/v1/projects/..%2f..%2fetc/events"),
         {400}},
        {"/api/v1/projects/demo%2F..%2Fother/events",
         get("/api/v1/projects/demo%2F..%2Fother/events"),
         {400}},
        {"/api/v1/projects/%252e%252e/events", get("/api/v1/projects/%252e%252e/events"), {400}},
        {"/api/v1/projects/%c0%ae%c0%ae/events",
         get("/api/v1/projects/%c0%ae%c0%ae/events"),
         {400}},
        {"/api/v1/projects/demo%00/events", get("/api/v1/projects/demo%00/events", bearer), {400}},
        {"/api/v1/projects/..%5cdemo/events", get("/api/v1/projects/..%5cdemo/events"), {400}},
        {"/api/v1/projects/demo/../other/events",
         get("/api/v1/projects/demo/../other/events"),
         {404}},
        {"/projects/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
         get("/projects/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
         {400}},

        // Invalid UTF-8.
        {"raw 0xFF 0xFE in a project name", get("/api/v1/projects/\xff\xfe/events"), {400}},
        {"%FF%FE in a project name", get("/api/v1/projects/%ff%fe/events"), {400}},
        {"%FF in after", get(demo_events_path + "?after=%ff", bearer), {400}},
        {"%FF%FE in the token", get(demo_events_path + "?token=%ff%fe"), {403}},
        {"raw 0xFF in the token", get(demo_events_path + "?token=\xff"), {400, 403}},
        {"%FF in an unknown parameter (ignored)",
         get("/api/v1/projects/demo?x=%ff%fe&token=" + good),
         {200}},
        {"0xFF 0xFE in an unknown header (ignored)",
         get("/healthz", "X-Junk: \xff\xfe\r\n"),
         {200}},
        {"0xFF in a header name", get("/healthz", "X-\xff: 1\r\n"), {400}},
        {"0xFF in Last-Event-ID", get(demo_events_path, bearer + "Last-Event-ID: \xff\r\n"), {400}},
        {"0xFF in the bearer token",
         get(demo_events_path, "Authorization: Bearer \xff\xfe\r\n"),
         {403}},

        // Line breaks meant for the stream or the response's headers.
        {"after=0%0D%0Adata:%20injected",
         get(demo_events_path + "?after=0%0D%0Adata:%20injected", bearer),
         {400}},
        {"after=%0D", get(demo_events_path + "?after=%0D", bearer), {400}},
        {"after=1-0%0Aevent:%20x",
         get(demo_events_path + "?after=1-0%0Aevent:%20x", bearer),
         {400}},
        {"Last-Event-ID with a bare CR",
         get(demo_events_path, bearer + "Last-Event-ID: 0\rdata: injected\r\n"),
         {400}},
        {"Last-Event-ID folded onto a second line",
         get(demo_events_path, bearer + "Last-Event-ID: 0\r\n data: injected\r\n"),
         {400}},
        {"token with %0D%0A", get(demo_events_path + "?token=" + good + "%0D%0Aevent:%20x"), {403}},
        {"bearer token folded onto a second line",
         get(demo_events_path, "Authorization: Bearer " + good + "\r\n data: injected\r\n"),
         {400, 403}},
        {"project name with %0D%0A",
         get("/api/v1/projects/demo%0D%0Aevent:%20x/events", bearer),
         {400}},
        {"project name with %0A", get("/api/v1/projects/demo%0A/events", bearer), {400}},
        {"project name with %0D%0ASet-Cookie:",
         get("/projects/demo%0D%0ASet-Cookie:%20injected=1"),
         {400}},
        {"a bare CR in the request line", raw("GET /healthz\r HTTP/1.1\r\nHost: x\r\n\r\n"), {400}},
        {"a LF in the request target",
         raw("GET /projects/de\nmo HTTP/1.1\r\nHost: x\r\n\r\n"),
         {400}},

        // WebSocket abuse.
        {"upgrade with Sec-WebSocket-Version: 8",
         get(demo_ws_path,
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
             "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n" +
                 bearer),
         {426}},
        {"upgrade without Sec-WebSocket-Key",
         get(demo_ws_path,
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" + bearer),
         {400}},
        {"upgrade from an origin not allowed",
         raw(upgrade(demo_ws_path,
                     "Sec-WebSocket-Version: 13\r\nOrigin: \xff://evil\r\n" + bearer)),
         {403}},
        {"upgrade of /healthz (ignored)",
         raw(upgrade("/healthz", "Sec-WebSocket-Version: 13\r\n")),
         {200}},
        {"a frame announcing 1 GiB",
         [&](int port) {
             return websocket_abuse(port, bearer,
                                    frame_header(0x81, std::uint64_t{1} << 30) + "abcd", 1009);
         },
         {101},
         true},
        {"an unmasked frame",
         [&](int port) {
             return websocket_abuse(port, bearer, std::string("\x81\x05hello", 7), 1002);
         },
         {101},
         true},
        {"a 5 KiB message",
         [&](int port) {
             HttpResponse response;
             WsClient client(port, demo_ws_path, {{"Authorization", "Bearer " + good}});
             response.status = 101;
             client.send_text(std::string(5000, 'm'));
             response.closed = client.wait_closed(idle_margin);
             if (client.close_code() != 1009) {
                 response.error = "close code " + std::to_string(client.close_code().value_or(0));
                 response.status = 0;
             }
             return response;
         },
         {101},
         true},
        {"1,000 small messages (ignored)",
         [&](int port) {
             HttpResponse response;
             WsClient client(port, demo_ws_path, {{"Authorization", "Bearer " + good}});
             for (int i = 0; i < 1000; ++i) {
                 client.send_text("hello");
             }
             // Still open: it receives the history's first event.
             response.status = client.next_text() ? 101 : 0;
             return response;
         },
         {101}},
    };

    for (const Row& row : rows) {
        SCOPED_TRACE(row.name);
        const HttpResponse response = row.act(gateway_port());
        EXPECT_TRUE(row.statuses.contains(response.status))
            << row.name << ": " << response.describe();
        if (row.closed) {
            EXPECT_TRUE(response.closed) << row.name << ": not closed: " << response.describe();
        }
        expect_harmless(response, row.name);
        ASSERT_NO_FATAL_FAILURE(expect_serving(viewer, *gateway, row.name));
    }
    expect_exact_stream(viewer.body(), history_ids());
}

// RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked
// (or comes with Content-Length) gets one 400 and the connection closes:
// the bytes after its header, a request of their own here, are never
// answered. (Read as the next request, they would be a request smuggled
// past a proxy that framed the body differently.)
TEST_F(GatewayHostileTest, TransferEncodingNotEndingInChunkedIs400AndClosesTheConnection) {
    auto gateway = start_gateway();
    const std::string smuggled = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const std::string length = std::to_string(smuggled.size());
    const std::vector<std::pair<std::string, std::string>> variants{
        {"xchunked", request("/healthz", "Transfer-Encoding: xchunked\r\n") + smuggled},
        {"chunked, identity",
         request("/healthz", "Transfer-Encoding: chunked, identity\r\n") + smuggled},
        {"identity", request("/healthz", "Transfer-Encoding: identity\r\n") + smuggled},
        {"chunked, chunked",
         request("/healthz", "Transfer-Encoding: chunked, chunked\r\n") + smuggled},
        {"xchunked with Content-Length",
         request("/healthz", "Transfer-Encoding: xchunked\r\nContent-Length: " + length + "\r\n") +
             smuggled},
        {"chunked in HTTP/1.0",
         "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n" +
             smuggled},
    };
    for (const auto& [name, bytes] : variants) {
        SCOPED_TRACE(name);
        HttpConnection connection(gateway_port());
        connection.send(bytes);
        const HttpResponse answer = connection.read_response(5s);
        EXPECT_EQ(answer.status, 400) << answer.describe();
        // (HTTP/1.0 closes by default: no keep-alive said, nothing to say.)
        EXPECT_EQ(answer.header("Connection"), name.ends_with("HTTP/1.0") ? "" : "close")
            << answer.describe();
        expect_harmless(answer, name);
        const HttpResponse next = connection.read_response(5s);
        EXPECT_EQ(next.status, 0) << "the body was answered as a request: " << next.describe();
        EXPECT_TRUE(next.closed) << next.describe();
    }

    // A chunked body, well framed: ignored, and the next request is served
    // on the same connection.
    HttpConnection connection(gateway_port());
    connection.send(request("/healthz", "Transfer-Encoding: chunked\r\n") +
                    "3\r\nabc\r\n0\r\n\r\n" + smuggled);
    const HttpResponse first = connection.read_response(5s);
    EXPECT_EQ(first.status, 200) << first.describe();
    const HttpResponse second = connection.read_response(5s);
    EXPECT_EQ(second.status, 200) << second.describe();
    EXPECT_NE(second.body.find("bscd_gateway_connections"), std::string::npos) << second.body;
    EXPECT_TRUE(gateway->running()) << gateway->output();
}

// The lines of `text` that contain `part`.
std::vector<std::string> lines_with(const std::string& text, std::string_view part) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.find(part) != std::string::npos) {
            found.push_back(line);
        }
    }
    return found;
}

// Refusals in the log (--log-file): each line in the file at once (no
// warning needed to flush it), what the client sent escaped and cut, and no
// more than a few lines an interval across the gateway, the rest counted in
// a summary line, however many a client sends: every refusal is either a
// line of its own or counted, and the log stays small.
TEST_F(GatewayHostileTest, RefusalsAreLoggedAtOnceEscapedCutAndCapped) {
    const std::string secret_file = dir.write_file("secret", test_token_secret + "\n");
    const std::string log = dir.file("gateway.log");
    auto gateway = start_gateway({"--token-secret-file", secret_file, "--log-file", log});
    const std::string bearer = "Authorization: Bearer " + token() + "\r\n";
    std::size_t refusals = 0;
    const auto refuse_token = [&] {
        const HttpResponse refused = http_get(gateway_port(), demo_events_path);
        EXPECT_EQ(refused.status, 403) << refused.describe();
        ++refusals;
    };

    // One refusal: its line is in the file, with nothing logged after it.
    refuse_token();
    std::vector<std::string> lines;
    EXPECT_TRUE(wait_until(
        [&] {
            lines =
                lines_with(read_file(log), "access to project \"demo\": missing or wrong token");
            return !lines.empty();
        },
        5s))
        << "not in the file:\n"
        << read_file(log) << "\nbut logged:\n"
        << gateway->output();
    if (!lines.empty()) {
        EXPECT_NE(lines[0].find("Refused 127.0.0.1:"), std::string::npos) << lines[0];
    }
    EXPECT_TRUE(lines_with(read_file(log), " WARNI ").empty()) << read_file(log);
    EXPECT_TRUE(gateway->running()) << gateway->output();

    // An Origin of nearly 8 KiB, high bytes: quoted escaped, cut, with its length.
    const std::string origin = "http://" + std::string(7500, '\xff');
    const HttpResponse big = send_and_wait(
        gateway_port(),
        upgrade(demo_ws_path, "Sec-WebSocket-Version: 13\r\nOrigin: " + origin + "\r\n" + bearer));
    EXPECT_EQ(big.status, 403) << big.describe();
    ++refusals;
    EXPECT_TRUE(wait_until(
        [&] {
            lines = lines_with(read_file(log), "origin \"http://\\xff\\xff");
            return !lines.empty();
        },
        5s))
        << read_file(log).substr(0, 4000);
    if (!lines.empty()) {
        EXPECT_LT(lines[0].size(), 400u) << lines[0];
        EXPECT_NE(lines[0].find("\\xff\"...(7507 bytes) not allowed"), std::string::npos)
            << lines[0];
        EXPECT_NE(lines[0].find("project \"demo\""), std::string::npos) << lines[0];
    }

    // 5,000 refused upgrades on one connection, pipelined 100 at a time.
    const std::string evil =
        upgrade(demo_ws_path, "Sec-WebSocket-Version: 13\r\nOrigin: https://evil/" +
                                  std::string(1000, '\xfe') + "\r\n" + bearer);
    std::string batch;
    for (int i = 0; i < 100; ++i) {
        batch += evil;
    }
    {
        HttpConnection connection(gateway_port());
        for (int round = 0; round < 50; ++round) {
            connection.send(batch, 10s);
            for (int i = 0; i < 100; ++i) {
                const HttpResponse refused = connection.read_response(10s);
                ASSERT_EQ(refused.status, 403)
                    << "request " << round * 100 + i << ": " << refused.describe();
                ++refusals;
            }
        }
    }

    // Every refusal is a line or counted in a summary, once the interval is
    // over (a refusal after it brings the summary).
    const auto accounted = [&] {
        const std::string text = read_file(log);
        std::size_t total = lines_with(text, " INFO  Refused ").size();
        for (const std::string& line : lines_with(text, " more refusals not logged in the last ")) {
            total += std::stoul(line.substr(line.find("INFO  ") + 6));
        }
        return total;
    };
    auto last_refused = std::chrono::steady_clock::now();
    const bool complete = wait_until(
        [&] {
            if (accounted() == refusals) {
                return true;
            }
            if (std::chrono::steady_clock::now() - last_refused > 250ms) {
                refuse_token();
                last_refused = std::chrono::steady_clock::now();
            }
            return false;
        },
        40s);
    const std::string text = read_file(log);
    EXPECT_TRUE(complete) << accounted() << " refusals in the log of " << refusals;
    // 5,000 lines of a kilobyte and more, unless capped.
    EXPECT_LT(text.size(), 64'000u) << lines_with(text, "Refused").size() << " refusal lines";
    EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char c) {
        return c == '\n' || (c >= 0x20 && c <= 0x7e);
    })) << "a byte that is not printable ASCII in the log";
    const auto summaries = lines_with(text, " more refusals not logged in the last ");
    ASSERT_FALSE(summaries.empty()) << text.substr(0, 4000);
    EXPECT_NE(summaries[0].find("(the last from 127.0.0.1:"), std::string::npos) << summaries[0];
    EXPECT_LT(lines_with(text, " INFO  Refused ").size(), 100u) << "of " << refusals;
    EXPECT_TRUE(gateway->running()) << gateway->output().substr(0, 4000);
}

// Out of descriptors: new connections are answered 503 at once (not left in
// the backlog), viewers already there keep their streams, the Redis links
// that could not reconnect meanwhile come back once descriptors are free,
// and new viewers are served again.
class GatewayDescriptorsTest : public GatewayTest {
protected:
    // Opens viewers of demo, each served its history, until one is not
    // served: that one (null when 100 were served).
    std::unique_ptr<SseClient> fill_up(std::vector<std::unique_ptr<SseClient>>& viewers) {
        for (int i = 0; i < 100; ++i) {
            auto viewer = std::make_unique<SseClient>(gateway_port(), demo_events_path);
            if (viewer->status() != 200) {
                viewer->wait_ended();  // the whole answer
                return viewer;
            }
            EXPECT_TRUE(viewer->next_event().has_value()) << "viewer " << viewers.size();
            viewers.push_back(std::move(viewer));
        }
        return nullptr;
    }

    static void expect_busy(const SseClient* refused) {
        ASSERT_NE(refused, nullptr) << "100 viewers served under a limit of 40 descriptors";
        EXPECT_EQ(refused->status(), 503) << refused->body();
        EXPECT_EQ(refused->header("Retry-After"), "1");
        EXPECT_EQ(refused->header("Connection"), "close");
        EXPECT_EQ(json::parse(refused->body(), nullptr, false).value("error", ""),
                  "too many connections open")
            << refused->body();
    }

    // Every viewer gets the code sent now.
    void expect_code_reaches(std::vector<std::unique_ptr<SseClient>>& viewers, const char* code) {
        const std::size_t before = history_ids().size();
        send_codes({code});
        const std::string id = wait_history(before + 1).back();
        for (std::size_t i = 0; i < viewers.size(); ++i) {
            const auto event = viewers[i]->next_event(30s);
            ASSERT_TRUE(event.has_value()) << "viewer " << i << " got no " << code;
            EXPECT_EQ(event->id, id) << "viewer " << i;
        }
    }

    // Lines of the gateway's log containing all of `parts`.
    static std::size_t log_lines(const Process& gateway, const std::vector<std::string>& parts) {
        std::istringstream lines(gateway.output());
        std::size_t count = 0;
        for (std::string line; std::getline(lines, line);) {
            count += std::all_of(parts.begin(), parts.end(), [&](const std::string& part) {
                return line.find(part) != std::string::npos;
            });
        }
        return count;
    }
};

TEST_F(GatewayDescriptorsTest, NewConnectionsGet503AndEverythingRecovers) {
    auto daemon = start_bscd();
    // Room for the gateway's own descriptors and a couple of dozen viewers.
    gateway_launcher = {"prlimit", "--nofile=40:40"};
    auto gateway = start_gateway({"-v", "--idle-timeout", "600"});
    send_codes({"10"});
    wait_history(1);
    // A connection opened before the descriptors run out (and kept open: no
    // idle timeout in this test) reads /metrics when no new one is taken.
    HttpConnection metrics(gateway_port());
    const auto connect_failures = [&] {
        metrics.send_request("GET", "/metrics");
        const HttpResponse response = metrics.read_response();
        return metric_in(response.body, "bscd_gateway_redis_connect_failures_total").value_or(-1);
    };

    std::vector<std::unique_ptr<SseClient>> viewers;
    const auto refused = fill_up(viewers);
    ASSERT_NO_FATAL_FAILURE(expect_busy(refused.get()));
    EXPECT_GE(viewers.size(), 10u);
    EXPECT_TRUE(gateway->running()) << gateway->output();
    ASSERT_NO_FATAL_FAILURE(expect_code_reaches(viewers, "20")) << gateway->output();
    // Still full: refused again, logged once.
    ASSERT_NO_FATAL_FAILURE(expect_busy(fill_up(viewers).get()));
    EXPECT_EQ(log_lines(*gateway, {"Out of descriptors"}), 1u) << gateway->output();

    // Redis goes away: the links' two descriptors go to new viewers, and the
    // links cannot come back when Redis does.
    ASSERT_FALSE(tcp_sockets_to(gateway->pid(), redis.port()).empty());
    redis.stop();
    // Both links noticed: the gateway closed its ends.
    ASSERT_TRUE(wait_until([&] { return tcp_sockets_to(gateway->pid(), redis.port()).empty(); }))
        << gateway->output();
    const std::size_t before = viewers.size();
    ASSERT_NO_FATAL_FAILURE(expect_busy(fill_up(viewers).get()));
    EXPECT_GT(viewers.size(), before) << "the links' descriptors were not freed";
    redis.start();  // listening: an attempt that fails now found no descriptor
    const double failed_before = connect_failures();
    ASSERT_GE(failed_before, 0) << "no /metrics";
    ASSERT_TRUE(wait_until([&] { return connect_failures() >= failed_before + 2; }, 20s))
        << "the links' reconnections did not fail:\n"
        << gateway->output();
    EXPECT_TRUE(tcp_sockets_to(gateway->pid(), redis.port()).empty()) << "a link came back";

    // Viewers leave: the links come back, the feed with them, and no viewer
    // is left with a stuck stream; new viewers are served.
    viewers.resize(2);
    EXPECT_TRUE(health_becomes(200, 20s)) << gateway->output();
    EXPECT_GE(log_lines(*gateway, {"Descriptors free again"}), 1u);
    ASSERT_NO_FATAL_FAILURE(expect_code_reaches(viewers, "30"));
    SseClient late(gateway_port(), demo_events_path);
    ASSERT_EQ(late.status(), 200) << late.body();
    EXPECT_EQ(late.events(3).size(), 3u) << "10, 20 and 30";
    EXPECT_TRUE(gateway->running());
}

// A viewer whose project's history cannot be read (Redis away, or its link
// unable to come back) is told so within a heartbeat (5 s at least), rather
// than left waiting for ever without an answer.
class GatewayUnreadableHistoryTest : public GatewayTest {};

TEST_F(GatewayUnreadableHistoryTest, NewViewersGet503OrClose1013AndComeBackLater) {
    auto gateway = start_gateway({"--heartbeat", "1"});
    redis.stop();
    ASSERT_TRUE(health_becomes(503, 10s));

    // Both at once; the WebSocket client reads (and answers pings) meanwhile.
    WsClient socket(gateway_port(), "/api/v1/projects/other/ws");
    auto sse = std::async(std::launch::async, [&] {
        return std::make_unique<SseClient>(
            gateway_port(), "/api/v1/projects/other/events",
            SseClient::Options{.headers = {}, .receive_buffer = 0, .timeout = 30s});
    });
    EXPECT_TRUE(socket.wait_closed(30s));
    EXPECT_EQ(socket.close_code(), 1013) << socket.close_error().message();
    EXPECT_FALSE(socket.next_text(0ms).has_value());
    const auto viewer = sse.get();
    EXPECT_EQ(viewer->status(), 503) << viewer->body();
    EXPECT_EQ(viewer->header("Retry-After"), "5");
    EXPECT_TRUE(viewer->wait_ended());
    EXPECT_TRUE(json::parse(viewer->body(), nullptr, false).contains("error")) << viewer->body();

    redis.start();
    ASSERT_TRUE(health_becomes(200, 20s));
    SseClient again(gateway_port(), "/api/v1/projects/other/events");
    EXPECT_EQ(again.status(), 200) << again.body();
    EXPECT_TRUE(gateway->running());
}

}  // namespace
}  // namespace bscd::test
