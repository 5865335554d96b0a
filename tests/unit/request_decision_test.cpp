#include "gateway/request_decision.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/project.hpp"
#include "gateway/access_token.hpp"

namespace bscd {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string good_token = "good-token";
const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's sample: 16 bytes

HttpRequest request(http::verb method, const std::string& target, const Headers& headers = {}) {
    HttpRequest r{method, target, 11};
    r.set(http::field::host, "gateway.example:8080");
    for (const auto& [name, value] : headers) {
        r.set(name, value);
    }
    return r;
}

Headers upgrade(Headers more = {}) {
    Headers headers{{"Connection", "Upgrade"},
                    {"Upgrade", "websocket"},
                    {"Sec-WebSocket-Version", "13"},
                    {"Sec-WebSocket-Key", key}};
    headers.insert(headers.end(), more.begin(), more.end());
    return headers;
}

// decide() with a token check that admits good_token only, and records what
// it was asked.
struct Decider {
    GatewayOptions options;
    std::vector<std::pair<std::string, std::string>> asked;

    Decision operator()(const HttpRequest& r) {
        return decide(r, parse_route(r.target()), options,
                      [this](const std::string& project, std::string_view token) {
                          asked.emplace_back(project, std::string(token));
                          return token == good_token;
                      });
    }
};

void expect_answer(const Decision& decision, http::status status, const std::string& message = {}) {
    const auto* answer = std::get_if<Answer>(&decision);
    ASSERT_NE(answer, nullptr) << "decision " << decision.index() << ", not an answer";
    EXPECT_EQ(answer->status, status) << answer->message;
    if (!message.empty()) {
        EXPECT_EQ(answer->message, message);
    }
    // Only a 405 says what is allowed, and it always does.
    EXPECT_EQ(answer->allow.empty(), status != http::status::method_not_allowed);
}

std::optional<EntryId> events_after(const Decision& decision) {
    const auto* events = std::get_if<OpenEvents>(&decision);
    EXPECT_NE(events, nullptr) << "decision " << decision.index() << ", not an event stream";
    return events != nullptr ? events->after : std::nullopt;
}

std::optional<Resource> served(const Decision& decision) {
    const auto* serve = std::get_if<Serve>(&decision);
    return serve != nullptr ? std::optional(serve->resource) : std::nullopt;
}

const std::string events = "/api/v1/projects/demo/events";
const std::string ws = "/api/v1/projects/demo/ws";

TEST(RequestDecision, MethodsOtherThanGetAndHeadAre405WithAllow) {
    Decider decide;
    for (const auto method : {http::verb::post, http::verb::put, http::verb::delete_,
                              http::verb::options, http::verb::patch}) {
        // Before the route: an invalid target is still a 405.
        for (const std::string& target : {std::string("/healthz"), events,
                                          std::string("/projects/%zz"), std::string("/nowhere")}) {
            const Decision decision = decide(request(method, target));
            expect_answer(decision, http::status::method_not_allowed,
                          "only GET and HEAD are served");
            EXPECT_EQ(std::get<Answer>(decision).allow, "GET, HEAD");
        }
    }
    EXPECT_TRUE(decide.asked.empty()) << "no token is checked for a refused method";
}

TEST(RequestDecision, OptionsIsAPreflightOnlyWithAllowedOrigins) {
    Decider decide;
    decide.options.allow_origins = {"https://ci.example"};
    EXPECT_TRUE(std::holds_alternative<Preflight>(decide(request(http::verb::options, events))));
    EXPECT_TRUE(decide.asked.empty());
}

TEST(RequestDecision, RouteErrorsAndTheGatewaysOwnResources) {
    Decider decide;
    for (const auto method : {http::verb::get, http::verb::head}) {
        expect_answer(decide(request(method, "/nowhere")), http::status::not_found, "no such page");
        expect_answer(decide(request(method, "/projects/..")), http::status::bad_request,
                      parse_route("/projects/..").error);
        expect_answer(decide(request(method, "/api/v1/projects/demo/events?after=x")),
                      http::status::bad_request);
        EXPECT_EQ(served(decide(request(method, "/healthz"))), Resource::Health);
        EXPECT_EQ(served(decide(request(method, "/metrics"))), Resource::Metrics);
        // Found or not by the gateway: the route only names it.
        EXPECT_EQ(served(decide(request(method, "/assets/app.js"))), Resource::Asset);
        EXPECT_EQ(served(decide(request(method, "/assets/nothing.js"))), Resource::Asset);
    }
    EXPECT_TRUE(decide.asked.empty()) << "only project routes need a token";
}

TEST(RequestDecision, EveryProjectRouteNeedsAnAdmittedToken) {
    for (const std::string& target :
         {std::string("/projects/demo"), std::string("/api/v1/projects/demo"), events, ws}) {
        SCOPED_TRACE(target);
        Decider decide;
        const Decision refused = decide(request(http::verb::get, target, upgrade()));
        expect_answer(refused, http::status::forbidden,
                      "a valid token for this project is required");
        EXPECT_EQ(std::get<Answer>(refused).refusal, Refusal::Token);
        // Also before the method of a stream is checked.
        expect_answer(decide(request(http::verb::head, target)), http::status::forbidden);
        ASSERT_EQ(decide.asked.size(), 2u);
        EXPECT_EQ(decide.asked[0], (std::pair<std::string, std::string>{"demo", ""}));

        const Decision granted = decide(request(
            http::verb::get, std::string(target).append("?token=").append(good_token), upgrade()));
        EXPECT_FALSE(std::holds_alternative<Answer>(granted)) << std::get<Answer>(granted).message;
    }
}

TEST(RequestDecision, TheBuildsRoutesNeedTheOperatorsToken) {
    for (const std::string& target : {std::string("/builds"), std::string("/api/v1/builds")}) {
        SCOPED_TRACE(target);
        Decider decide;
        const Decision refused = decide(request(http::verb::get, target));
        expect_answer(refused, http::status::forbidden, "the operator's token is required");
        EXPECT_EQ(std::get<Answer>(refused).refusal, Refusal::Token);
        ASSERT_EQ(decide.asked.size(), 1u);
        // Asked for the operator's scope, which no project name can be.
        EXPECT_EQ(decide.asked[0].first, std::string(operator_scope));
        EXPECT_FALSE(is_valid_project_name(decide.asked[0].first));

        for (const auto method : {http::verb::get, http::verb::head}) {
            EXPECT_EQ(served(decide(request(
                          method, std::string(target).append("?token=").append(good_token)))),
                      target == "/builds" ? Resource::BuildsPage : Resource::BuildsList);
        }
    }
}

TEST(RequestDecision, TheTokenComesFromTheQueryOrABearerHeader) {
    const auto token_of = [](const std::string& target, const Headers& headers) {
        const HttpRequest r = request(http::verb::get, target, headers);
        return presented_token(r, parse_route(r.target()));
    };
    EXPECT_EQ(token_of(events + "?token=abc", {}), "abc");
    EXPECT_EQ(token_of(events, {{"Authorization", "Bearer abc"}}), "abc");
    EXPECT_EQ(token_of(events, {{"Authorization", "bEaReR abc"}}), "abc");
    // The query wins; an empty one does not count.
    EXPECT_EQ(token_of(events + "?token=abc", {{"Authorization", "Bearer xyz"}}), "abc");
    EXPECT_EQ(token_of(events + "?token=", {{"Authorization", "Bearer xyz"}}), "xyz");
    // Not a bearer token: none.
    EXPECT_EQ(token_of(events, {{"Authorization", "Bearer "}}), "");
    EXPECT_EQ(token_of(events, {{"Authorization", "Basic abc"}}), "");
    EXPECT_EQ(token_of(events, {{"Authorization", "Bearerabc"}}), "");
    EXPECT_EQ(token_of(events, {}), "");

    Decider decide;
    EXPECT_TRUE(std::holds_alternative<OpenEvents>(
        decide(request(http::verb::get, events, {{"Authorization", "Bearer " + good_token}}))));
    ASSERT_EQ(decide.asked.size(), 1u);
    EXPECT_EQ(decide.asked[0], (std::pair<std::string, std::string>{"demo", good_token}));
}

TEST(RequestDecision, StreamsAnswerGetOnlyThePageAndStateHeadToo) {
    Decider decide;
    const std::string query = "?token=" + good_token;
    for (const std::string& stream : {events, ws}) {
        const Decision decision = decide(request(http::verb::head, stream + query, upgrade()));
        expect_answer(decision, http::status::method_not_allowed, "event streams answer GET only");
        EXPECT_EQ(std::get<Answer>(decision).allow, "GET");
    }
    for (const auto method : {http::verb::get, http::verb::head}) {
        EXPECT_EQ(served(decide(request(method, "/projects/demo" + query))), Resource::Page);
        EXPECT_EQ(served(decide(request(method, "/api/v1/projects/demo" + query))),
                  Resource::State);
    }
}

TEST(RequestDecision, LastEventIdWinsOverAfterAndMustBeAnEntryId) {
    Decider decide;
    const auto get = [&](const std::string& target, const Headers& headers = {}) {
        return decide(request(
            http::verb::get,
            target + (target.find('?') == std::string::npos ? "?" : "&") + "token=" + good_token,
            headers));
    };
    EXPECT_EQ(events_after(get(events)), std::nullopt);
    EXPECT_EQ(events_after(get(events + "?after=0")), (EntryId{0, 0}));
    EXPECT_EQ(events_after(get(events + "?after=5-1")), (EntryId{5, 1}));
    EXPECT_EQ(events_after(get(events, {{"Last-Event-ID", "7-2"}})), (EntryId{7, 2}));
    EXPECT_EQ(events_after(get(events + "?after=5-1", {{"Last-Event-ID", "7-2"}})),
              (EntryId{7, 2}));
    EXPECT_EQ(events_after(get(events + "?after=9-0", {{"Last-Event-ID", "0"}})), (EntryId{0, 0}));
    // A malformed header is an error, even beside a good ?after=.
    for (const std::string bad : {"", "x", "7-", "-1", "7-2x", "1-2-3", "+7-2", "7 -2"}) {
        SCOPED_TRACE("Last-Event-ID: " + bad);
        expect_answer(get(events + "?after=5-1", {{"Last-Event-ID", bad}}),
                      http::status::bad_request,
                      "Last-Event-ID is not a history entry id (<ms>-<seq>)");
    }
}

TEST(RequestDecision, WebSocketUpgradesAreCheckedBeforeAFeedOpens) {
    Decider decide;
    const std::string target = ws + "?token=" + good_token;
    const auto get = [&](const Headers& headers) {
        return decide(request(http::verb::get, target, headers));
    };
    expect_answer(get({}), http::status::bad_request,
                  "a WebSocket upgrade request is expected here");
    const Decision old_version = get({{"Connection", "Upgrade"},
                                      {"Upgrade", "websocket"},
                                      {"Sec-WebSocket-Version", "8"},
                                      {"Sec-WebSocket-Key", key}});
    expect_answer(old_version, http::status::upgrade_required,
                  "only WebSocket version 13 is supported");
    EXPECT_TRUE(std::get<Answer>(old_version).websocket_version);
    expect_answer(get({{"Connection", "Upgrade"},
                       {"Upgrade", "websocket"},
                       {"Sec-WebSocket-Version", "13"},
                       {"Sec-WebSocket-Key", "short"}}),
                  http::status::bad_request,
                  "Sec-WebSocket-Key is missing or not 16 bytes in base64");
    const Decision opened = get(upgrade());
    ASSERT_TRUE(std::holds_alternative<OpenWebSocket>(opened));
    EXPECT_EQ(std::get<OpenWebSocket>(opened).after, std::nullopt);
    // ?after= resumes; Last-Event-ID is SSE's, not read here.
    const auto resumed = decide(
        request(http::verb::get, target + "&after=3-4", upgrade({{"Last-Event-ID", "not an id"}})));
    ASSERT_TRUE(std::holds_alternative<OpenWebSocket>(resumed));
    EXPECT_EQ(std::get<OpenWebSocket>(resumed).after, (EntryId{3, 4}));
}

TEST(RequestDecision, AWebSocketFromAnotherOriginIsRefused) {
    Decider decide;
    const std::string target = ws + "?token=" + good_token;
    const auto from = [&](const std::string& origin) {
        return decide(request(http::verb::get, target, upgrade({{"Origin", origin}})));
    };
    // No Origin: not a browser. The gateway's own host, in any case.
    EXPECT_TRUE(
        std::holds_alternative<OpenWebSocket>(decide(request(http::verb::get, target, upgrade()))));
    EXPECT_TRUE(std::holds_alternative<OpenWebSocket>(from("http://gateway.example:8080")));
    EXPECT_TRUE(std::holds_alternative<OpenWebSocket>(from("https://GATEWAY.example:8080")));
    for (const std::string origin :
         {"https://evil.example", "http://gateway.example", "gateway.example:8080", "null"}) {
        SCOPED_TRACE(origin);
        const Decision refused = from(origin);
        expect_answer(refused, http::status::forbidden,
                      "this origin may not open a WebSocket here (--allow-origin)");
        EXPECT_EQ(std::get<Answer>(refused).refusal, Refusal::Origin);
    }
    decide.options.allow_origins = {"https://ci.example"};
    EXPECT_TRUE(std::holds_alternative<OpenWebSocket>(from("https://ci.example")));
    EXPECT_TRUE(std::holds_alternative<Answer>(from("https://evil.example")));
    decide.options.allow_origins = {"*"};
    EXPECT_TRUE(std::holds_alternative<OpenWebSocket>(from("https://evil.example")));
}

// RFC 9112 6.3: a body whose framing Beast and a proxy in front of the
// gateway could read differently is refused, and the connection closed after
// the answer, so that the body's bytes are never read as a request.
TEST(RequestDecision, TransferEncodingNotEndingInChunkedIs400AndCloses) {
    const auto with = [](const Headers& fields, http::verb method = http::verb::get,
                         const std::string& target = "/healthz", unsigned version = 11) {
        HttpRequest r{method, target, version};
        r.set(http::field::host, "gateway.example:8080");
        for (const auto& [name, value] : fields) {
            r.insert(name, value);  // repeated fields stay repeated
        }
        return r;
    };
    const std::vector<Headers> refused{
        {{"Transfer-Encoding", "xchunked"}},
        {{"Transfer-Encoding", "chunked, identity"}},
        {{"Transfer-Encoding", "identity"}},
        {{"Transfer-Encoding", "gzip"}},
        {{"Transfer-Encoding", ""}},
        {{"Transfer-Encoding", " , "}},
        {{"Transfer-Encoding", "chunked, chunked"}},
        {{"Transfer-Encoding", "chunked;ext=1"}},
        {{"Transfer-Encoding", "\"chunked\""}},
        {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "identity"}},
        {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
        {{"Transfer-Encoding", "xchunked"}, {"Content-Length", "5"}},
        {{"Transfer-Encoding", "chunked"}, {"Content-Length", "0"}},
    };
    for (const Headers& fields : refused) {
        SCOPED_TRACE("Transfer-Encoding: " + fields.front().second +
                     (fields.size() > 1 ? " + " + fields[1].first + ": " + fields[1].second : ""));
        Decider decide;
        for (const auto& [method, target] :
             {std::pair{http::verb::get, std::string("/healthz")},
              std::pair{http::verb::get, events}, std::pair{http::verb::post, events},
              std::pair{http::verb::options, std::string("/nowhere")}}) {
            const Decision decision = decide(with(fields, method, target));
            expect_answer(decision, http::status::bad_request);
            EXPECT_TRUE(std::get<Answer>(decision).close);
        }
        EXPECT_TRUE(decide.asked.empty()) << "refused before the token";
    }
    // In HTTP/1.0, Transfer-Encoding at all.
    Decider decide;
    const Decision old =
        decide(with({{"Transfer-Encoding", "chunked"}}, http::verb::get, "/healthz", 10));
    expect_answer(old, http::status::bad_request);
    EXPECT_TRUE(std::get<Answer>(old).close);

    // Chunked last, once: a body Beast reads whole, ignored.
    for (const Headers& fields : std::vector<Headers>{
             {{"Transfer-Encoding", "chunked"}},
             {{"Transfer-Encoding", "CHUNKED"}},
             {{"Transfer-Encoding", "gzip ,\tchunked"}},
             {{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}},
         }) {
        SCOPED_TRACE(fields.back().second);
        EXPECT_EQ(served(decide(with(fields))), Resource::Health);
    }
    // No Transfer-Encoding: nothing to close for, even for other refusals.
    const Decision refused_method = decide(with({}, http::verb::post));
    expect_answer(refused_method, http::status::method_not_allowed);
    EXPECT_FALSE(std::get<Answer>(refused_method).close);
}

TEST(RequestDecision, LimitsAnswerWithRetryAfterAndKeepTheConnection) {
    const Answer rate = over_rate_answer(std::chrono::seconds(3));
    EXPECT_EQ(rate.status, http::status::too_many_requests);
    EXPECT_EQ(rate.refusal, Refusal::Rate);
    EXPECT_EQ(rate.retry_after, std::optional(std::chrono::seconds(3)));
    EXPECT_EQ(rate.message, "too many requests from this address: try again in 3 s");
    EXPECT_FALSE(rate.close);

    const Answer full = project_full_answer("demo", 5000, std::chrono::seconds(7));
    EXPECT_EQ(full.status, http::status::service_unavailable);
    EXPECT_EQ(full.refusal, Refusal::Full);
    EXPECT_EQ(full.retry_after, std::optional(std::chrono::seconds(7)));
    EXPECT_NE(full.message.find("project demo has as many viewers as this gateway takes (5000)"),
              std::string::npos)
        << full.message;
    EXPECT_FALSE(full.close);
}

}  // namespace
}  // namespace bscd
