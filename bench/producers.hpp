#pragma once
// The producer side of the throughput measurement: what N builders do to
// bscd, and the shared tally the subscriber side reads.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>

#include "stats.hpp"

namespace bench {

enum class Mode {
    Connect,     // Pieman's client: connect, write "10" (no newline), close; no reply read
    ConnectAck,  // bsc's exchange without the process: connect, "10\n", read "OK", close
    Pipeline,    // persistent connections: `batch` requests written, then their replies read
};

// Throws UsageError for an unknown name.
Mode parse_mode(const std::string& name);
const char* mode_name(Mode mode);

// What the producers did, updated as they go, and what the subscriber got.
class Tally {
public:
    std::atomic<std::uint64_t> sent{0};      // requests written completely
    std::atomic<std::uint64_t> accepted{0};  // answered OK (connect mode: = sent)
    std::atomic<std::uint64_t> errors{0};    // failed connections or exchanges
    std::atomic<std::size_t> finished{0};    // producer threads done

    void error(const std::exception& e);
    [[nodiscard]] std::string first_error();

    // A producer thread is done.
    void finish();
    [[nodiscard]] Clock::time_point last_finish();

    // Closed loop: waits while more than `window` accepted codes have not
    // reached the subscriber yet. False when `deadline` passed meanwhile.
    bool wait_for_window(std::uint64_t window, Clock::time_point deadline);
    [[nodiscard]] bool window_open(std::uint64_t window) const;

    // The subscriber's count went up: wakes producers waiting for the window.
    void set_received(std::uint64_t count);

private:
    std::atomic<std::uint64_t> received_{0};
    std::atomic<int> waiting_{0};
    std::mutex mutex_;
    std::condition_variable window_moved_;
    std::string first_error_;
    Clock::time_point last_finish_{};
};

struct ProducerPlan {
    Mode mode = Mode::Pipeline;
    std::string socket_path;
    std::size_t batch = 64;      // pipeline: requests per write
    std::uint64_t window = 0;    // 0: open loop, no waiting for deliveries
    Clock::time_point deadline;  // no new request after it
};

// Connect and ConnectAck: one producer, a new connection per code, until the
// deadline. Run by each of N threads (like N builders running bsc).
void produce_per_connection(const ProducerPlan& plan, Tally& tally);

// Pipeline: one thread drives `connections` persistent connections, each with
// at most one batch awaiting replies (poll(), no thread per connection, so
// that the generator does not crowd bscd and Redis off a small machine).
void produce_pipelined(const ProducerPlan& plan, std::size_t connections, Tally& tally);

}  // namespace bench
