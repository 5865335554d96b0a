#include "gateway/gateway_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

#include <CLI/CLI.hpp>

#include "common/cli_options.hpp"
#include "core/project.hpp"
#include "gateway/access_token.hpp"

namespace bscd {
namespace {

// "127.0.0.1:8080", "[::1]:8080", "localhost:80": host and port, or an
// explanation of what is wrong.
std::string split_listen(const std::string& text, std::string& host, unsigned short& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        return "expected ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";
    }
    host = text.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = text.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535) {
        return "the port must be a number from 0 to 65535";
    }
    port = static_cast<unsigned short>(value);
    return {};
}

// --token-secret, named as --redis-password is when it shows in ps.
constexpr SecretOption token_secret_option{"--token-secret", "a token secret",
                                           "BSCD_TOKEN_SECRET or --token-secret-file"};

// --trust-proxy's values: networks, or "none" alone.
std::vector<IpNetwork> parse_trusted_proxies(const std::vector<std::string>& values) {
    std::vector<IpNetwork> networks;
    if (values.size() == 1 && values.front() == "none") {
        return networks;
    }
    for (const auto& value : values) {
        const auto network = parse_ip_network(value);
        if (!network) {
            throw CLI::ValidationError("--trust-proxy",
                                       value +
                                           ": expected an address or NETWORK/PREFIX (10.0.0.5, "
                                           "10.0.0.0/8, ::1), or none alone");
        }
        networks.push_back(*network);
    }
    return networks;
}

std::chrono::milliseconds seconds(double value) {
    return std::chrono::milliseconds(static_cast<long long>(value * 1000));
}

}  // namespace

ParsedGatewayOptions parse_gateway_options(int argc, char** argv) {
    GatewayOptions o;
    CLI::App app{
        "bscd-gateway: shows builds' progress in browsers. Relays each project's status "
        "events from Redis over Server-Sent Events and WebSocket, with a ready-made page, "
        "one Redis subscription per project however many viewers. See docs/gateway.md.",
        "bscd-gateway"};
    app.get_formatter()->column_width(34);
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    std::string listen = "127.0.0.1:8080";
    double idle_seconds = 30;
    double heartbeat_seconds = 15;
    double stall_margin_seconds = 60;

    app.add_option("--listen", listen,
                   "address and port to accept HTTP on; loopback by default (put the service's "
                   "front end before it, or listen wider on purpose)")
        ->capture_default_str();
    add_redis_options(app, o.redis);
    app.add_option("--codes", o.codes_file,
                   "build status codes file (Pieman's NAME=VALUE format) replacing the built-in "
                   "catalog")
        ->check(CLI::ExistingFile);
    app.add_option("--allow-origin", o.allow_origins,
                   "answer cross-origin (CORS) requests from this origin; repeatable; * for any")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    // As --redis-password and --redis-password-file (common/cli_options.cpp).
    auto* secret =
        app.add_option(std::string(token_secret_option.name), o.token_secret,
                       "require each viewer to present hex(HMAC-SHA256(secret, project)) as "
                       "?token= or Authorization: Bearer; prefer BSCD_TOKEN_SECRET or "
                       "--token-secret-file: arguments are visible in ps (this one is "
                       "overwritten once read)")
            ->envname("BSCD_TOKEN_SECRET");
    app.add_option_function<std::string>(
           "--token-secret-file",
           [&o](const std::string& path) {
               o.token_secret = read_secret_file("--token-secret-file", path, "token secret");
           },
           "file whose first line is the token secret")
        ->type_name("FILE")
        ->excludes(secret);
    auto* print_token =
        app.add_option("--print-token", o.print_token_for,
                       "print the token of this project for the configured secret, and exit")
            ->check([](const std::string& name) {
                return is_valid_project_name(name) ? std::string() : std::string(project_name_rule);
            });
    app.add_flag_callback(
           "--print-operator-token", [&o] { o.print_token_for = operator_scope; },
           "print the operator's token (GET /builds) for the configured secret, and exit")
        ->excludes(print_token);
    app.add_option("--threads", o.threads,
                   "event loops (threads) the viewers are spread over; 0: one per CPU")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    app.add_option("--max-connections", o.max_connections,
                   "HTTP connections open at once; more are answered 503")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--client-rate", o.client_rate,
                   "requests a second one client address may make on average (behind a "
                   "trusted proxy: the client X-Forwarded-For names); more are answered 429; "
                   "0: no limit")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    auto* client_burst =
        app.add_option("--client-burst", o.client_burst,
                       "requests one client address may make at once before --client-rate "
                       "applies; default: --max-connections (a whole gateway's viewers coming "
                       "back from one address)")
            ->check(CLI::PositiveNumber);
    std::vector<std::string> trust_proxy{"127.0.0.0/8", "::1"};
    app.add_option("--trust-proxy", trust_proxy,
                   "a proxy (ADDRESS or NETWORK/PREFIX) whose X-Forwarded-For names the client; "
                   "repeatable, replaces the default; none: trust no one")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->capture_default_str();
    auto* max_project_viewers =
        app.add_option("--max-project-viewers", o.max_project_viewers,
                       "viewers (SSE and WebSocket) of one project at once; more are answered "
                       "503; 0: no cap; default: half of --max-connections")
            ->check(CLI::NonNegativeNumber);
    app.add_option("--idle-timeout", idle_seconds,
                   "seconds a connection may take to send a whole request (and stay idle "
                   "between requests) before it is closed")
        ->check(CLI::Range(0.01, 86'400.0))
        ->capture_default_str();
    app.add_option("--heartbeat", heartbeat_seconds,
                   "seconds between keep-alive comments on idle event streams (pings on "
                   "WebSockets), so that proxies keep them open; a viewer whose write has not "
                   "completed for a whole heartbeat is dropped")
        ->check(CLI::Range(0.01, 3600.0))
        ->capture_default_str();
    app.add_option("--viewer-queue", o.viewer_queue,
                   "live events a viewer may fall behind before it is disconnected (it resumes "
                   "where it was)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--stall-margin", stall_margin_seconds,
                   "a stage is 'probably stalled' once it has run twice its longest time in "
                   "the profile's earlier builds and at least this many seconds past it")
        ->check(CLI::Range(0.0, 86'400.0))
        ->capture_default_str();
    app.add_flag("-v,--verbose", o.verbose, "debug log lines too");
    app.add_option("--log-file", o.log_file, "log to this file as well as stderr");
    app.set_version_flag("--version", BSCD_VERSION);

    try {
        app.parse(argc, argv);
        const std::string problem = split_listen(listen, o.listen_address, o.listen_port);
        if (!problem.empty()) {
            throw CLI::ValidationError("--listen", listen + ": " + problem);
        }
        o.trusted_proxies = parse_trusted_proxies(trust_proxy);
        if (client_burst->count() == 0) {
            o.client_burst = o.max_connections;
        }
        if (max_project_viewers->count() == 0) {
            o.max_project_viewers = std::max<std::size_t>(1, o.max_connections / 2);
        }
        if (!o.print_token_for.empty() && o.token_secret.empty()) {
            throw CLI::ValidationError(
                o.print_token_for == operator_scope ? "--print-operator-token" : "--print-token",
                "needs a token secret");
        }
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        return {std::nullopt, status == 0 ? 0 : 2};
    }
    hide_redis_password("bscd-gateway", argc, argv);
    // --print-token exits at once: its output is the token alone.
    hide_secret_option("bscd-gateway", argc, argv, token_secret_option, o.print_token_for.empty());
    o.idle_timeout = seconds(idle_seconds);
    o.heartbeat = seconds(heartbeat_seconds);
    o.estimate_rules.stall_margin_ms = std::llround(stall_margin_seconds * 1000);
    return {o, 0};
}

std::size_t GatewayOptions::threads_to_run() const {
    if (threads > 0) {
        return threads;
    }
    return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace bscd
