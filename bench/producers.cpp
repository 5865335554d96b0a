#include "producers.hpp"

#include <algorithm>
#include <memory>
#include <poll.h>
#include <system_error>
#include <thread>
#include <vector>

#include "options.hpp"
#include "producer_socket.hpp"

namespace bench {

namespace {

constexpr std::chrono::milliseconds io_timeout(5000);

}  // namespace

Mode parse_mode(const std::string& name) {
    if (name == "connect") {
        return Mode::Connect;
    }
    if (name == "connect-ack") {
        return Mode::ConnectAck;
    }
    if (name == "pipeline") {
        return Mode::Pipeline;
    }
    throw UsageError("--mode must be connect, connect-ack or pipeline, got '" + name + "'");
}

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::Connect:
            return "connect";
        case Mode::ConnectAck:
            return "connect-ack";
        case Mode::Pipeline:
            break;
    }
    return "pipeline";
}

void Tally::error(const std::exception& e) {
    errors.fetch_add(1);
    const std::lock_guard lock(mutex_);
    if (first_error_.empty()) {
        first_error_ = e.what();
    }
}

std::string Tally::first_error() {
    const std::lock_guard lock(mutex_);
    return first_error_;
}

void Tally::finish() {
    const std::lock_guard lock(mutex_);
    last_finish_ = std::max(last_finish_, Clock::now());
    finished.fetch_add(1);
}

Clock::time_point Tally::last_finish() {
    const std::lock_guard lock(mutex_);
    return last_finish_;
}

bool Tally::window_open(std::uint64_t window) const {
    return window == 0 || accepted.load(std::memory_order_relaxed) <=
                              received_.load(std::memory_order_relaxed) + window;
}

bool Tally::wait_for_window(std::uint64_t window, Clock::time_point deadline) {
    if (window_open(window)) {
        return true;
    }
    waiting_.fetch_add(1);
    std::unique_lock lock(mutex_);
    while (!window_open(window) && Clock::now() < deadline) {
        window_moved_.wait_for(lock, std::chrono::milliseconds(1));
    }
    waiting_.fetch_sub(1);
    return window_open(window);
}

void Tally::set_received(std::uint64_t count) {
    received_.store(count, std::memory_order_relaxed);
    if (waiting_.load() > 0) {
        const std::lock_guard lock(mutex_);
        window_moved_.notify_all();
    }
}

void produce_per_connection(const ProducerPlan& plan, Tally& tally) {
    const bool ack = plan.mode == Mode::ConnectAck;
    std::uint64_t failures = 0;
    while (failures < 1000 && Clock::now() < plan.deadline &&
           tally.wait_for_window(plan.window, plan.deadline)) {
        try {
            ProducerSocket socket(plan.socket_path, io_timeout);
            socket.write_all(ack ? "10\n" : "10");
            tally.sent.fetch_add(1, std::memory_order_relaxed);
            tally.accepted.fetch_add(ack ? socket.read_replies(1) : 1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
            ++failures;
            tally.error(e);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    tally.finish();
}

void produce_pipelined(const ProducerPlan& plan, std::size_t connections, Tally& tally) {
    try {
        std::string requests;
        for (std::size_t i = 0; i < plan.batch; ++i) {
            requests += "10\n";
        }
        std::vector<std::unique_ptr<ProducerSocket>> sockets;
        for (std::size_t i = 0; i < connections; ++i) {
            sockets.push_back(std::make_unique<ProducerSocket>(plan.socket_path, io_timeout));
        }
        std::vector<std::size_t> awaited(connections, 0);  // replies owed per connection
        std::vector<pollfd> fds;
        std::vector<std::size_t> polled;  // fds[k] is sockets[polled[k]]
        auto last_reply = Clock::now();
        for (;;) {
            const bool sending = Clock::now() < plan.deadline;
            for (std::size_t i = 0; sending && i < connections; ++i) {
                if (awaited[i] == 0 && tally.window_open(plan.window)) {
                    sockets[i]->write_all(requests);  // small: fits the socket buffer
                    awaited[i] = plan.batch;
                    tally.sent.fetch_add(plan.batch, std::memory_order_relaxed);
                }
            }
            fds.clear();
            polled.clear();
            for (std::size_t i = 0; i < connections; ++i) {
                if (awaited[i] > 0) {
                    fds.push_back(pollfd{sockets[i]->fd(), POLLIN, 0});
                    polled.push_back(i);
                }
            }
            if (fds.empty()) {
                if (!sending) {
                    break;
                }
                tally.wait_for_window(plan.window, plan.deadline);  // all idle: window shut
                continue;
            }
            const int ready = ::poll(fds.data(), fds.size(), 10);
            if (ready < 0 && errno != EINTR) {
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k) {
                if (fds[k].revents != 0) {
                    const std::size_t i = polled[k];
                    tally.accepted.fetch_add(sockets[i]->read_available(awaited[i]),
                                             std::memory_order_relaxed);
                    last_reply = Clock::now();
                }
            }
            if (Clock::now() - last_reply > io_timeout) {
                throw std::system_error(ETIMEDOUT, std::generic_category(),
                                        "bscd did not answer pipelined requests");
            }
        }
    } catch (const std::exception& e) {
        tally.error(e);
    }
    tally.finish();
}

}  // namespace bench
