#pragma once
// Tests of bscd-gateway: a BscdTest (its own redis-server and runtime
// directory) that also runs the gateway on a free loopback port.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/bscd_fixture.hpp"
#include "support/process.hpp"

namespace bscd::test {

// The "demo" project's streams, spelled as a browser or a proxy asks for
// them (docs/gateway.md, "Endpoints").
inline const std::string demo_events_path = "/api/v1/projects/demo/events";
inline const std::string demo_ws_path = "/api/v1/projects/demo/ws";
// The --token-secret of the tests that turn tokens on.
inline const std::string test_token_secret = "s3cret";

class GatewayTest : public BscdTest {
protected:
    // Starts bscd-gateway on a free loopback port against this test's Redis
    // (-H/-P of `redis`) with `extra` arguments, and waits until GET /healthz
    // answers 200. Fails the test, with the gateway's output, otherwise.
    // Retries on another port when the gateway exits at once (the port was
    // taken in between). Never null: after a failure to start it is the
    // exited process.
    std::unique_ptr<Process> start_gateway(const std::vector<std::string>& extra = {});
    // Starts bscd-gateway again on the port of the last start_gateway() (the
    // previous one has exited), and waits for /healthz as that does. Fails
    // the test when it does not come up there.
    std::unique_ptr<Process> restart_gateway(const std::vector<std::string>& extra = {});

    // "http://127.0.0.1:PORT" + path.
    std::string gateway_url(const std::string& path) const;
    int gateway_port() const { return gateway_port_; }

    // Sends `codes` to this test's bscd for "demo" (one connection, one line
    // each) and fails the test unless every reply is OK.
    void send_codes(const std::vector<std::string>& codes);
    // The entry ids of the history stream of `channel`, oldest first.
    std::vector<std::string> history_ids(const std::string& channel = "bscd-demo");
    // Waits until the history of "demo" has `count` entries; its ids.
    std::vector<std::string> wait_history(std::size_t count);

    // Polls GET /healthz until it answers `status` (200: Redis reachable,
    // 503: not); on failure, the last answer.
    ::testing::AssertionResult health_becomes(int status, std::chrono::milliseconds timeout) const;

    // The value of one series of GET /metrics, e.g.
    // `bscd_gateway_viewers{transport="sse"}`; nullopt when the series is
    // missing or /metrics does not answer 200.
    std::optional<double> gateway_metric(const std::string& series) const;
    // The same, read from a /metrics body.
    static std::optional<double> metric_in(const std::string& body, const std::string& series);

    // A command that runs bscd-gateway, put before it (e.g. {"prlimit",
    // "--nofile=32:32"}); empty: the gateway is started directly.
    std::vector<std::string> gateway_launcher;

private:
    // Starts the gateway on `port`; true when /healthz answered 200. Sets
    // `gateway` even when it failed (exited, or never healthy).
    bool launch_gateway(int port, const std::vector<std::string>& extra,
                        std::unique_ptr<Process>& gateway);

    int gateway_port_ = 0;
};

}  // namespace bscd::test
