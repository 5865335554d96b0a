#include "support/gateway_fixture.hpp"

#include <sstream>

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/producer_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

bool healthy(int port) {
    return http_get(port, "/healthz", {}, 500ms).status == 200;
}

}  // namespace

bool GatewayTest::launch_gateway(int port, const std::vector<std::string>& extra,
                                 std::unique_ptr<Process>& gateway) {
    std::vector<std::string> args = gateway_launcher;
    args.insert(args.end(), {bin("bscd-gateway"), "--listen", "127.0.0.1:" + std::to_string(port),
                             "-H", redis.host(), "-P", std::to_string(redis.port())});
    args.insert(args.end(), extra.begin(), extra.end());
    gateway = std::make_unique<Process>(args);
    const bool settled = wait_until([&] { return !gateway->running() || healthy(port); }, 10s);
    return settled && gateway->running();
}

std::unique_ptr<Process> GatewayTest::start_gateway(const std::vector<std::string>& extra) {
    constexpr int attempts = 3;
    std::string failures;
    std::unique_ptr<Process> gateway;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        const int port = free_port();
        if (launch_gateway(port, extra, gateway)) {
            gateway_port_ = port;
            return gateway;
        }
        if (gateway->running()) {  // up, but /healthz never said 200
            ADD_FAILURE() << "bscd-gateway on port " << port
                          << " did not answer 200 on /healthz within 10 s; last answer: "
                          << http_get(port, "/healthz", {}, 1s).describe() << "\noutput:\n"
                          << gateway->output();
            gateway_port_ = port;
            return gateway;
        }
        failures += "attempt " + std::to_string(attempt) + " (port " + std::to_string(port) +
                    ", exit " + std::to_string(gateway->exit_code().value_or(-1)) + "):\n" +
                    gateway->output() + "\n";
    }
    ADD_FAILURE() << "bscd-gateway did not start:\n" << failures;
    return gateway;  // exited: the test has failed, but callers need not check for null
}

std::unique_ptr<Process> GatewayTest::restart_gateway(const std::vector<std::string>& extra) {
    std::unique_ptr<Process> gateway;
    if (!launch_gateway(gateway_port_, extra, gateway)) {
        ADD_FAILURE() << "bscd-gateway did not start again on port " << gateway_port_
                      << " (running: " << gateway->running() << "); last answer: "
                      << http_get(gateway_port_, "/healthz", {}, 1s).describe() << "\noutput:\n"
                      << gateway->output();
    }
    return gateway;
}

std::string GatewayTest::gateway_url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(gateway_port_) + path;
}

void GatewayTest::send_codes(const std::vector<std::string>& codes) {
    std::string requests;
    for (const auto& code : codes) {
        requests += code + "\n";
    }
    std::string expected;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        expected += "OK\n";
    }
    EXPECT_EQ(exchange(socket_path(), requests), expected) << "sending " << requests;
}

std::vector<std::string> GatewayTest::history_ids(const std::string& channel) {
    std::vector<std::string> ids;
    const Reply entries = redis.command({"XRANGE", channel + ":events", "-", "+"});
    for (const Reply& entry : entries.elements) {
        ids.push_back(entry.elements.at(0).str);
    }
    return ids;
}

std::vector<std::string> GatewayTest::wait_history(std::size_t count) {
    std::vector<std::string> ids;
    EXPECT_TRUE(wait_until([&] {
        ids = history_ids();
        return ids.size() >= count;
    })) << "history has "
        << ids.size() << " entries, expected " << count;
    return ids;
}

::testing::AssertionResult GatewayTest::health_becomes(int status,
                                                       std::chrono::milliseconds timeout) const {
    HttpResponse health;
    if (wait_until(
            [&] {
                health = http_get(gateway_port_, "/healthz", {}, 1s);
                return health.status == status;
            },
            timeout)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "/healthz did not answer " << status << "; last answer: " << health.describe();
}

std::optional<double> GatewayTest::gateway_metric(const std::string& series) const {
    const HttpResponse response = http_get(gateway_port_, "/metrics");
    if (response.status != 200) {
        return std::nullopt;
    }
    return metric_in(response.body, series);
}

std::optional<double> GatewayTest::metric_in(const std::string& body, const std::string& series) {
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            try {
                return std::stod(line.substr(series.size() + 1));
            } catch (const std::exception&) {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

}  // namespace bscd::test
