// A minute of load: 1,000 producer connections held open to four bscd
// daemons (four builds' projects, as a build service runs them: one daemon
// per build) sending codes over the minute, and 5,000 SSE viewers of those
// projects on one bscd-gateway, on one Redis. Nothing may fail: every code
// answered OK, no viewer disconnected, every viewer gets every code of its
// project exactly once and in order; and the daemons' and the gateway's
// peak memory stay under generous bounds. Prints one LOAD_RESULT line with
// the figures (docs/reliability.md).
//
// Four projects rather than one: the gateway then follows several feeds at
// once (four subscriptions, interleaved history reads), and each daemon has
// 250 connections, a quarter of its default --max-connections, as a busy
// build with parallel stages would, rather than one daemon at its limit.

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "load/producer_swarm.hpp"
#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/sse_swarm.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t projects = 4;
constexpr std::size_t producers = 1000;
constexpr std::size_t viewers = 5000;
constexpr std::size_t codes_per_producer = 3;
constexpr auto hold = 60s;
// Between one producer's codes: the run's codes are spread evenly over it.
constexpr auto code_spacing = hold / codes_per_producer;

#ifdef BSCD_LOAD_SANITIZED
// ASan's shadow memory and its quarantine of freed blocks (256 MiB at most)
// come on top of what the programs use: measured 65 MiB per bscd and 600 MiB
// for the gateway.
constexpr long bscd_bound_kb = 512L * 1024;
constexpr long gateway_bound_kb = 2048L * 1024;
#else
// Measured 5 MiB per bscd and 34 MiB for the gateway: bounds that only a
// leak or a runaway buffer reaches.
constexpr long bscd_bound_kb = 64L * 1024;
constexpr long gateway_bound_kb = 256L * 1024;
#endif

// Stage codes only: a final code would end the viewers' streams.
const std::vector<std::string> stage_codes{"10", "20", "21", "30", "31", "32", "33",
                                           "40", "50", "60", "70", "80", "81", "82"};

std::string project_name(std::size_t i) {
    return "load" + std::to_string(i);
}

// A field of /proc/PID/status in kB ("VmHWM", "VmRSS"); -1 when unreadable.
long status_kb(pid_t pid, const std::string& field) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with(field + ":")) {
            return std::stol(line.substr(field.size() + 1));
        }
    }
    return -1;
}

// User and system CPU time of process `pid` so far, in seconds (/proc/PID/stat
// fields 14 and 15, in clock ticks); -1 when unreadable.
double cpu_seconds(pid_t pid) {
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = text.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream fields(text.substr(close + 2));  // from field 3, the state
    std::string field;
    long ticks = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number >= 14) {
            ticks += std::stol(field);
        }
    }
    return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class LoadTest : public GatewayTest {};

TEST_F(LoadTest, ThousandProducersAndFiveThousandViewersForAMinute) {
    // 5,000 viewers and 1,000 producers are descriptors of this process;
    // the programs started from here inherit the raised limit.
    const long open_files = raise_open_files_limit();
    ASSERT_GE(open_files, static_cast<long>(viewers + producers + 500))
        << "RLIMIT_NOFILE's hard limit is too low for this test";
    const auto started = std::chrono::steady_clock::now();

    std::vector<std::unique_ptr<Process>> daemons;
    for (std::size_t p = 0; p < projects; ++p) {
        // History for every code of the run; connections held across the
        // checks after the minute, however slow (bscd closes idle ones).
        daemons.push_back(start_bscd(
            {"--history-length", "10000", "--max-connections", "500", "--idle-timeout", "600"},
            project_name(p)));
    }
    auto gateway = start_gateway({"--max-connections", "6000"});
    ASSERT_TRUE(gateway->running());

    std::vector<std::unique_ptr<SseSwarm>> swarms;
    for (std::size_t p = 0; p < projects; ++p) {
        swarms.push_back(std::make_unique<SseSwarm>(
            gateway_port(), "/api/v1/projects/" + project_name(p) + "/events", viewers / projects));
    }
    for (auto& swarm : swarms) {
        ASSERT_TRUE(swarm->wait_streaming(120s))
            << swarm->streaming() << " streaming; " << swarm->failures();
    }

    std::vector<ProducerPlan> plans;
    for (std::size_t i = 0; i < producers; ++i) {
        ProducerPlan plan{socket_path(project_name(i % projects)), {}};
        // Spread over the spacing, so that codes come all the time.
        const auto offset = code_spacing * i / producers;
        for (std::size_t k = 0; k < codes_per_producer; ++k) {
            plan.codes.emplace_back(
                std::chrono::duration_cast<std::chrono::milliseconds>(offset + code_spacing * k),
                stage_codes[(i + k) % stage_codes.size()]);
        }
        plans.push_back(std::move(plan));
    }
    ProducerSwarm producer_swarm(std::move(plans));
    ASSERT_TRUE(producer_swarm.wait_connected(60s)) << producer_swarm.failures();
    const auto hold_started = std::chrono::steady_clock::now();
    producer_swarm.start();

    // The minute: every code answered, nothing failing meanwhile.
    const auto failing = [&] {
        return producer_swarm.failed() > 0 ||
               std::any_of(swarms.begin(), swarms.end(),
                           [](const auto& swarm) { return swarm->failed() > 0; });
    };
    EXPECT_TRUE(producer_swarm.wait_answered(hold + 120s))
        << producer_swarm.answered_ok() << " of " << producers * codes_per_producer
        << " answered OK; " << producer_swarm.failures();
    // Held for the whole minute, whatever the last code's time.
    EXPECT_FALSE(
        wait_until(failing, std::max<std::chrono::milliseconds>(
                                0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         hold_started + hold - std::chrono::steady_clock::now()))))
        << producer_swarm.failures();
    const double held_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - hold_started).count();

    // Every viewer has every code of its project, exactly once, in order.
    std::size_t codes_in_history = 0;
    for (std::size_t p = 0; p < projects; ++p) {
        const auto ids = history_ids("bscd-" + project_name(p));
        codes_in_history += ids.size();
        EXPECT_EQ(ids.size(), producers / projects * codes_per_producer) << project_name(p);
        SseSwarm& swarm = *swarms[p];
        EXPECT_TRUE(wait_until(
            [&] { return swarm.failed() > 0 || swarm.viewers_with_exactly(ids) == swarm.size(); },
            120s))
            << project_name(p) << ": " << swarm.viewers_with_exactly(ids) << " of " << swarm.size()
            << " viewers have exactly the history; " << swarm.failures();
        EXPECT_EQ(swarm.failed(), 0u) << swarm.failures();
        EXPECT_EQ(swarm.malformed_events(), 0u);
    }
    EXPECT_EQ(producer_swarm.failed(), 0u) << producer_swarm.failures();
    EXPECT_EQ(gateway_metric("bscd_gateway_viewers_dropped_slow_total"), 0.0);
    EXPECT_EQ(gateway_metric(R"(bscd_gateway_viewers{transport="sse"})"),
              static_cast<double>(viewers));

    // Peak memory (VmHWM: the largest resident set since each started).
    const long gateway_peak = status_kb(gateway->pid(), "VmHWM");
    long bscd_peak = 0;
    std::string bscd_peaks;  // each daemon's
    for (const auto& daemon : daemons) {
        const long peak = status_kb(daemon->pid(), "VmHWM");
        bscd_peaks += (bscd_peaks.empty() ? "" : ",") + std::to_string(peak);
        EXPECT_GT(peak, 0);
        EXPECT_LT(peak, bscd_bound_kb) << "bscd pid " << daemon->pid();
        bscd_peak = std::max(bscd_peak, peak);
    }
    EXPECT_GT(gateway_peak, 0);
    EXPECT_LT(gateway_peak, gateway_bound_kb);
    const long redis_peak = status_kb(redis.pid(), "VmHWM");
    double bscd_cpu = 0;
    for (const auto& daemon : daemons) {
        bscd_cpu += cpu_seconds(daemon->pid());
    }
    const double gateway_cpu = cpu_seconds(gateway->pid());

    std::size_t events_delivered = 0;
    for (const auto& swarm : swarms) {
        events_delivered += swarm->events_received();
    }
    const double total_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << std::fixed << std::setprecision(1) << "LOAD_RESULT projects=" << projects
              << " producer_connections=" << producers << " sse_viewers=" << viewers
              << " held_s=" << held_s << " codes_sent=" << producer_swarm.sent()
              << " codes_ok=" << producer_swarm.answered_ok()
              << " codes_in_history=" << codes_in_history
              << " events_delivered=" << events_delivered << " events_relayed_metric="
              << static_cast<long long>(
                     gateway_metric("bscd_gateway_events_relayed_total").value_or(-1))
              << " bscd_peak_rss_kb=" << bscd_peak << " bscd_peaks_kb=" << bscd_peaks
              << " gateway_peak_rss_kb=" << gateway_peak << " redis_peak_rss_kb=" << redis_peak
              << " gateway_cpu_s=" << gateway_cpu << " bscd_cpu_s=" << bscd_cpu
              << " test_s=" << total_s << std::endl;
    EXPECT_EQ(events_delivered, codes_in_history * viewers / projects);

    producer_swarm.close();
    for (auto& swarm : swarms) {
        swarm->close();
    }
}

}  // namespace
}  // namespace bscd::test
