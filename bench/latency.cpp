#include <cstdio>
#include <vector>

#include "process_stats.hpp"
#include "producer_socket.hpp"
#include "scenarios.hpp"
#include "stats.hpp"
#include "subscriber.hpp"

namespace bench {

int run_latency(const Options& options) {
    const std::string socket_path = options.text("socket");
    const RedisTarget redis = redis_target(options);
    const std::string channel = options.text("channel");
    const auto count = static_cast<std::size_t>(options.integer("count", 2000, 1, 1'000'000));
    const auto warmup = static_cast<std::size_t>(options.integer("warmup", 100, 0, 100'000));
    auto watched = parse_watched(options.all("watch"));
    options.reject_unknown();

    const std::chrono::milliseconds timeout(2000);
    Subscriber subscriber(redis, channel, timeout);
    ProducerSocket producer(socket_path, timeout);
    std::vector<double> ack_us;
    std::vector<double> delivered_us;
    ack_us.reserve(count);
    delivered_us.reserve(count);
    std::size_t lost = 0;
    for (std::size_t i = 0; i < warmup + count; ++i) {
        if (i == warmup) {
            mark_cpu(watched);
        }
        const auto sent = Clock::now();
        producer.write_all("10\n");
        if (producer.read_replies(1) != 1) {
            (void)std::fprintf(stderr, "bscd_load: latency: bscd did not answer OK\n");
            return 1;
        }
        const auto acked = Clock::now();
        std::size_t received = subscriber.receive(timeout);
        const auto delivered = Clock::now();
        if (received == 0) {
            ++lost;
            continue;
        }
        if (received > 1) {
            (void)std::fprintf(stderr, "bscd_load: latency: %zu messages for one code\n", received);
            return 1;
        }
        if (i >= warmup) {
            ack_us.push_back(seconds_between(sent, acked) * 1e6);
            delivered_us.push_back(seconds_between(sent, delivered) * 1e6);
        }
    }
    const double measured = static_cast<double>(delivered_us.size());
    (void)std::printf(
        "latency n=%zu warmup=%zu lost=%zu unexpected=%llu %s %s%s\n", delivered_us.size(), warmup,
        lost, static_cast<unsigned long long>(subscriber.unexpected()),
        percentiles_us(ack_us, "ack_").c_str(), percentiles_us(delivered_us, "").c_str(),
        cpu_report(watched, measured).c_str());
    return lost == 0 && subscriber.unexpected() == 0 ? 0 : 1;
}

}  // namespace bench
