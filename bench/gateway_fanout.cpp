// gateway_fanout: bscd-gateway's fan-out benchmark (bench/run.sh, section (h)).
//
//   gateway_fanout --gateway 127.0.0.1:PORT --gateway-pid PID --project P
//                  --socket BSCD_SOCKET [--bsc PATH] [--viewers 1000] [--events 50]
//                  [--codes 10,20,30] [--gap-ms 100] [--connecting 200]
//                  [--sources 8] [--hold-s 0] [--event-timeout 10]
//                  [--watch NAME=PID]...
//   gateway_fanout --mode floor ...      (fanout_floor.cpp)
//   gateway_fanout --mode projects ...   (fanout_projects.cpp)
//
// Connects N SSE viewers to GET /api/v1/projects/P/events (P should be a
// fresh project: its history empty), each bound to one of SOURCES loopback
// addresses (127.0.0.2, ...: fanout_common.hpp), waits until every one has
// its 200 head, then E times sends a code and times from just before that
// until the first and the last viewer have the event, twice: when this
// program has read it, and when the kernel received it in the viewer's
// socket (SO_TIMESTAMPNS). The code is written straight to bscd's socket
// as a producer does ("CODE\n", then bscd's OK): timed from just before
// the write, i.e. from the code's arrival at bscd; or, with --bsc, by
// running `bsc -a SOCKET CODE` (a real process, as a builder does, started
// by a small helper: bsc_spawner.hpp), timed from just before its start.
// Reads the gateway's memory before the viewers connect and with them
// connected; holds them HOLD seconds more; reads its /metrics at the end.
// Prints one line of key=value tokens; exits 1 when a viewer missed an event
// or the gateway dropped one.
//
// All viewers share one thread and one io_context, so the time this program
// takes to get round to N sockets is part of "read by the last viewer"; the
// kernel's receive time is not (see docs/performance.md). Links no project
// library, so that it measures the programs as built.

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "bsc_spawner.hpp"
#include "fanout_common.hpp"
#include "fanout_modes.hpp"
#include "options.hpp"
#include "process_stats.hpp"
#include "sse_parser.hpp"
#include "stats.hpp"

namespace bench {

namespace {

namespace asio = boost::asio;

std::vector<std::string> split_codes(const std::string& text) {
    std::vector<std::string> codes;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const std::string code = text.substr(start, comma - start);
        if (code.empty() || code.find_first_not_of("0123456789") != std::string::npos ||
            code == "1000" || code == "1001") {
            throw UsageError("--codes takes stage codes (final ones end the streams): '" + text +
                             "'");
        }
        codes.push_back(code);
        start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    }
    return codes;
}

class Fanout;

// One viewer: a socket, its parser and how many events it has had.
struct Viewer final : SseEventSink {
    Viewer(asio::io_context& io, Fanout& owner) : socket(io), fanout(owner) {}
    void on_event(std::string_view id, int code) override;

    tcp::socket socket;
    Fanout& fanout;
    SseParser parser;
    std::array<char, 4096> buffer{};
    // When the kernel received the bytes last read (SO_TIMESTAMPNS, ns of
    // CLOCK_REALTIME; 0 when it gave none).
    std::int64_t arrived_ns = 0;
    std::size_t events = 0;
    std::size_t bytes = 0;  // read so far, head and events
    bool streaming = false;
    bool failed = false;
};

// The current event: when bsc started, which id it got, who has it. Two
// views of "has it": read by this program (first, last), and in the
// viewer's socket (the kernel's receive time; first_ns, last_ns), which
// does not depend on when this one thread gets round to each viewer.
struct Round {
    std::size_t index = 0;
    int code = 0;
    Clock::time_point started;
    std::int64_t started_ns = 0;  // the same instant in CLOCK_REALTIME, as the kernel's times
    std::string id;               // as the first viewer received it
    std::size_t received = 0;
    std::optional<Clock::time_point> first;
    std::optional<Clock::time_point> last;
    // bsc's own run, for comparison; or, with the code written straight to
    // bscd's socket, bscd's answer
    std::optional<Clock::time_point> bsc_exited;
    std::int64_t first_ns = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_ns = 0;
    bool timestamped = true;  // every arrival had the kernel's time
};

class Fanout {
public:
    Fanout(const tcp::endpoint& gateway, const std::string& project, std::size_t viewers,
           std::size_t connecting, std::size_t sources)
        : gateway_(gateway),
          request_("GET /api/v1/projects/" + project +
                   "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"),
          size_(viewers),
          max_connecting_(connecting),
          sources_(sources) {
        viewers_.reserve(viewers);
    }

    // Connects every viewer, at most max_connecting_ waiting for their head
    // at a time (a burst of thousands would overflow the listen backlog);
    // true once all stream, false as soon as one failed or at the deadline.
    bool connect_all(Clock::duration timeout) {
        while (viewers_.size() < size_ && connecting_ < max_connecting_) {
            connect_next();
        }
        return run_until([this] { return streaming_ == size_ || failed_ > 0; }, timeout) &&
               failed_ == 0;
    }

    // Lets the loop run for `duration` (heartbeats, late writes).
    void idle(Clock::duration duration) {
        (void)run_until([] { return false; }, duration);
    }

    // Sends one code and waits until every viewer has it: through bsc when
    // `bsc` is given, else written straight to bscd's socket as a producer
    // does (connected first, timed from just before the write: the code's
    // arrival at bscd). Returns the round, or nullopt after the timeout or a
    // viewer's failure.
    std::optional<Round> deliver(std::size_t index, BscSpawner* bsc, const std::string& socket,
                                 const std::string& code, Clock::duration timeout) {
        round_ = Round{};
        round_.index = index;
        round_.code = std::stoi(code);
        bool started = false;
        bool answered_ok = false;
        asio::local::stream_protocol::socket producer(io_);
        std::array<char, 64> answer{};
        if (bsc != nullptr) {
            round_.started = Clock::now();
            round_.started_ns = realtime_ns();
            started = bsc->start(code);
        } else {
            boost::system::error_code ec;
            producer.connect(asio::local::stream_protocol::endpoint(socket), ec);
            round_.started = Clock::now();
            round_.started_ns = realtime_ns();
            const std::string line = code + "\n";
            if (!ec) {
                asio::write(producer, asio::buffer(line), ec);
            }
            started = !ec;
            if (started) {
                producer.async_read_some(asio::buffer(answer), [&](boost::system::error_code error,
                                                                   std::size_t got) {
                    round_.bsc_exited = Clock::now();
                    answered_ok = !error && got >= 2 && std::string_view(answer.data(), 2) == "OK";
                });
            }
        }
        const bool complete =
            started && run_until(
                           [&] {
                               return (round_.last.has_value() &&
                                       (bsc != nullptr || round_.bsc_exited.has_value())) ||
                                      failed_ > 0;
                           },
                           timeout);
        if (bsc == nullptr) {
            boost::system::error_code ignored;
            producer.close(ignored);
            io_.poll();  // the read's handler, cancelled if it had not run, before `answer` goes
            io_.restart();
            if (!answered_ok) {
                round_.bsc_exited.reset();
            }
        } else if (started) {
            // bsc has sent its code by the time the event is out: waiting for
            // it after the round does not delay a measurement.
            round_.bsc_exited = bsc->finish(!complete);
        }
        const bool bsc_ok = round_.bsc_exited.has_value();
        if (!bsc_ok) {
            note_error((bsc != nullptr ? "bsc " : "bscd's answer to ") + code + " failed (event " +
                       std::to_string(index + 1) + ")");
        }
        if (!complete) {
            note_error("event " + std::to_string(index + 1) + " (code " + code + ") reached " +
                       std::to_string(round_.received) + " of " + std::to_string(size_) +
                       " viewers in time");
        }
        return complete && bsc_ok ? std::optional<Round>(round_) : std::nullopt;
    }

    void on_event(Viewer& viewer, std::string_view id, int code) {
        const auto now = Clock::now();
        ++viewer.events;
        if (viewer.events != round_.index + 1 || code != round_.code || round_.last) {
            // An event nobody sent (the project had a history) or a repeat.
            fail(viewer, "unexpected event " + std::string(id) + " (code " + std::to_string(code) +
                             "; was the project fresh?)");
            return;
        }
        round_.first_ns = std::min(round_.first_ns, viewer.arrived_ns);
        round_.last_ns = std::max(round_.last_ns, viewer.arrived_ns);
        round_.timestamped = round_.timestamped && viewer.arrived_ns != 0;
        if (!round_.first) {
            round_.first = now;
            round_.id = id;
        } else if (id != round_.id) {
            fail(viewer, "event id " + std::string(id) + " where others had " + round_.id);
            return;
        }
        if (++round_.received == size_) {
            round_.last = now;
        }
    }

    [[nodiscard]] std::size_t failed() const { return failed_; }
    [[nodiscard]] std::size_t streaming() const { return streaming_; }
    // Bytes the first viewer has read so far.
    [[nodiscard]] std::size_t first_viewer_bytes() const {
        return viewers_.empty() ? 0 : viewers_.front()->bytes;
    }
    [[nodiscard]] const std::string& first_error() const { return first_error_; }
    // Viewers that received exactly `events` events.
    [[nodiscard]] std::size_t complete(std::size_t events) const {
        std::size_t count = 0;
        for (const auto& viewer : viewers_) {
            count += viewer->events == events && !viewer->failed ? 1 : 0;
        }
        return count;
    }

private:
    template <class Done>
    bool run_until(Done done, Clock::duration timeout) {
        const auto deadline = Clock::now() + timeout;
        while (!done()) {
            if (Clock::now() >= deadline) {
                return false;
            }
            if (io_.run_one_until(deadline) == 0 && Clock::now() < deadline) {
                io_.restart();  // out of work: nothing more can happen
                return done();
            }
        }
        return true;
    }

    void connect_next() {
        const std::size_t index = viewers_.size();
        ++connecting_;
        viewers_.push_back(std::make_unique<Viewer>(io_, *this));
        Viewer& viewer = *viewers_.back();
        boost::system::error_code ec;
        viewer.socket.open(tcp::v4(), ec);
        if (ec) {
            fail(viewer, "socket: " + ec.message());
            return;
        }
        if (const int error = bind_source(viewer.socket.native_handle(), index, sources_);
            error != 0) {
            fail(viewer, std::string("bind: ") + std::strerror(error));
            return;
        }
        // No child process may hold a viewer's connection open.
        (void)::fcntl(viewer.socket.native_handle(), F_SETFD, FD_CLOEXEC);
        const int on = 1;
        (void)::setsockopt(viewer.socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on,
                           sizeof on);
        viewer.socket.async_connect(gateway_, [this, &viewer](boost::system::error_code error) {
            if (error) {
                fail(viewer, "connect: " + error.message());
                return;
            }
            asio::async_write(viewer.socket, asio::buffer(request_),
                              [this, &viewer](boost::system::error_code write_error, std::size_t) {
                                  if (write_error) {
                                      fail(viewer, "request: " + write_error.message());
                                  }
                              });
            read(viewer);
        });
    }

    // Waits until the socket has data, then takes it (recvmsg rather than
    // async_read_some, for the kernel's receive time).
    void read(Viewer& viewer) {
        viewer.socket.async_wait(tcp::socket::wait_read,
                                 [this, &viewer](boost::system::error_code ec) {
                                     if (viewer.failed) {
                                         return;
                                     }
                                     if (ec) {
                                         fail(viewer, "wait: " + ec.message());
                                     } else if (receive(viewer)) {
                                         read(viewer);
                                     }
                                 });
    }

    // Takes all the socket holds; false once the viewer failed. Waiting
    // again is safe after a short read: on this one thread no readiness
    // can be reported between the read and the next wait.
    bool receive(Viewer& viewer) {
        for (;;) {
            iovec data{viewer.buffer.data(), viewer.buffer.size()};
            alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control{};
            msghdr message{};
            message.msg_iov = &data;
            message.msg_iovlen = 1;
            message.msg_control = control.data();
            message.msg_controllen = control.size();
            const ssize_t got = ::recvmsg(viewer.socket.native_handle(), &message, MSG_DONTWAIT);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return true;
            }
            if (got <= 0) {
                fail(viewer, got == 0 ? std::string("the gateway closed the stream")
                                      : std::string("read: ") + std::strerror(errno));
                return false;
            }
            viewer.arrived_ns = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec at{};
                    std::memcpy(&at, CMSG_DATA(c), sizeof at);
                    viewer.arrived_ns = at.tv_sec * 1'000'000'000LL + at.tv_nsec;
                }
            }
            viewer.bytes += static_cast<std::size_t>(got);
            if (!take(viewer, static_cast<std::size_t>(got))) {
                return false;
            }
            if (static_cast<std::size_t>(got) < viewer.buffer.size()) {
                return true;  // a short read: the socket is empty
            }
        }
    }

    // Parses `got` bytes of viewer.buffer; false once the viewer failed.
    bool take(Viewer& viewer, std::size_t got) {
        viewer.parser.feed(std::string_view(viewer.buffer.data(), got), viewer);
        if (viewer.failed) {
            return false;
        }
        if (viewer.parser.failed() || viewer.parser.ended()) {
            fail(viewer, viewer.parser.failed() ? viewer.parser.error() : "the stream ended");
            return false;
        }
        if (!viewer.streaming && viewer.parser.streaming()) {
            viewer.streaming = true;
            ++streaming_;
            --connecting_;
            if (viewers_.size() < size_) {
                connect_next();
            }
        }
        return true;
    }

    void fail(Viewer& viewer, const std::string& why) {
        if (viewer.failed) {
            return;
        }
        viewer.failed = true;
        ++failed_;
        if (viewer.streaming) {
            --streaming_;
        } else {
            --connecting_;
        }
        note_error(why);
        boost::system::error_code ignored;
        viewer.socket.close(ignored);
    }

    void note_error(const std::string& why) {
        if (first_error_.empty()) {
            first_error_ = why;
        }
    }

    asio::io_context io_{1};
    tcp::endpoint gateway_;
    std::string request_;
    std::size_t size_;
    std::size_t max_connecting_;
    std::size_t sources_;
    std::vector<std::unique_ptr<Viewer>> viewers_;
    std::size_t connecting_ = 0;
    std::size_t streaming_ = 0;
    std::size_t failed_ = 0;
    std::string first_error_;
    Round round_;
};

void Viewer::on_event(std::string_view id, int code) {
    fanout.on_event(*this, id, code);
}

int run(const Options& options) {
    const std::string mode = options.text("mode", "fanout");
    if (mode == "floor") {
        return run_floor(options);
    }
    if (mode == "projects") {
        return run_projects(options);
    }
    if (mode != "fanout") {
        throw UsageError("--mode is fanout, floor or projects, got '" + mode + "'");
    }
    const tcp::endpoint gateway = gateway_endpoint(options.text("gateway"));
    const auto gateway_pid = static_cast<pid_t>(options.integer("gateway-pid", 0, 1, 1 << 30));
    const std::string project = options.text("project");
    const std::string bsc = options.text("bsc", "");
    const std::string socket = options.text("socket");
    const auto viewers = static_cast<std::size_t>(options.integer("viewers", 1000, 1, 60'000));
    const auto events = static_cast<std::size_t>(options.integer("events", 50, 1, 10'000));
    const std::vector<std::string> codes = split_codes(options.text("codes", "10,20,30"));
    const auto gap = std::chrono::milliseconds(options.integer("gap-ms", 100, 0, 10'000));
    const auto connecting = static_cast<std::size_t>(options.integer("connecting", 200, 1, 10'000));
    const auto sources = static_cast<std::size_t>(options.integer("sources", 8, 1, 250));
    const auto hold = std::chrono::seconds(options.integer("hold-s", 0, 0, 3600));
    const auto event_timeout = std::chrono::milliseconds(
        static_cast<long>(options.real("event-timeout", 10, 0.1, 600) * 1e3));
    std::vector<std::string> watch = options.all("watch");
    watch.insert(watch.begin(), "gateway=" + std::to_string(gateway_pid));
    auto watched = parse_watched(watch);
    options.reject_unknown();
    if (project.empty() || project.find_first_of("/?#% ") != std::string::npos) {
        throw UsageError("--project: a plain project name, got '" + project + "'");
    }

    // The gateway answers /healthz once it reaches Redis.
    if (!wait_healthy(gateway, 10)) {
        (void)std::fprintf(stderr, "gateway_fanout: ERROR: %s:%u/healthz did not answer 200\n",
                           gateway.address().to_string().c_str(), gateway.port());
        return 1;
    }

    std::optional<BscSpawner> spawner;  // before the viewers' sockets exist
    if (!bsc.empty()) {
        spawner.emplace(bsc, socket);
    }
    const Memory before = memory_of(gateway_pid);
    Fanout fanout(gateway, project, viewers, connecting, sources);
    const auto connect_start = Clock::now();
    const bool connected = fanout.connect_all(std::chrono::seconds(120));
    const double connect_s = seconds_between(connect_start, Clock::now());
    fanout.idle(std::chrono::milliseconds(200));  // the gateway's last writes of heads
    const Memory connected_memory = memory_of(gateway_pid);

    std::vector<double> bsc_ms;
    std::vector<double> first_ms;
    std::vector<double> last_ms;
    std::vector<double> first_socket_ms;
    std::vector<double> last_socket_ms;
    bool timestamped = true;
    std::size_t delivered = 0;
    const std::size_t bytes_before = fanout.first_viewer_bytes();
    mark_cpu(watched);
    const auto rounds_start = Clock::now();
    if (connected) {
        for (std::size_t i = 0; i < events; ++i) {
            // Builds send codes minutes apart: let the gateway finish the
            // last burst (its writes' completions) before the next code.
            fanout.idle(gap);
            const auto round = fanout.deliver(i, spawner ? &*spawner : nullptr, socket,
                                              codes[i % codes.size()], event_timeout);
            if (!round) {
                break;
            }
            ++delivered;
            first_ms.push_back(seconds_between(round->started, *round->first) * 1e3);
            last_ms.push_back(seconds_between(round->started, *round->last) * 1e3);
            bsc_ms.push_back(seconds_between(round->started, *round->bsc_exited) * 1e3);
            first_socket_ms.push_back(static_cast<double>(round->first_ns - round->started_ns) /
                                      1e6);
            last_socket_ms.push_back(static_cast<double>(round->last_ns - round->started_ns) / 1e6);
            timestamped = timestamped && round->timestamped;
        }
    }
    const double rounds_s = seconds_between(rounds_start, Clock::now());
    const std::string cpu = cpu_report(watched, static_cast<double>(delivered));
    const std::size_t event_bytes =
        delivered > 0 ? (fanout.first_viewer_bytes() - bytes_before) / delivered : 0;
    fanout.idle(std::chrono::milliseconds(200));
    const Memory after = memory_of(gateway_pid);
    // Held: every viewer stays connected, heartbeats and all, for `hold`.
    const auto hold_start = Clock::now();
    if (connected && delivered == events && hold.count() > 0) {
        fanout.idle(hold);
    }
    const double held_s = seconds_between(hold_start, Clock::now());
    const Memory held = memory_of(gateway_pid);
    const std::string metrics = http_get(gateway, "/metrics").value_or("");
    const std::string metric_viewers = metric(metrics, R"(bscd_gateway_viewers{transport="sse"})");
    const std::string metric_dropped = metric(metrics, "bscd_gateway_viewers_dropped_slow_total");
    const std::size_t complete = fanout.complete(events);

    const auto per_viewer = [&](const Memory& with) {
        return fixed(static_cast<double>(with.rss - before.rss) / static_cast<double>(viewers), 2);
    };
    std::string out =
        "fanout viewers=" + std::to_string(viewers) + " events=" + std::to_string(events) +
        " delivered=" + std::to_string(delivered) +
        " complete_viewers=" + std::to_string(complete) +
        " failed_viewers=" + std::to_string(fanout.failed()) + " connect_s=" + fixed(connect_s, 2) +
        " rounds_s=" + fixed(rounds_s, 2) + " event_bytes=" + std::to_string(event_bytes) +
        " held_s=" + fixed(held_s, 1) +
        " streaming_after_hold=" + std::to_string(fanout.streaming()) +
        " threads=" + std::to_string(connected_memory.threads);
    out += quantiles_ms(bsc_ms, "bsc") + quantiles_ms(first_ms, "first") +
           quantiles_ms(last_ms, "last");
    if (timestamped) {  // the kernel's receive times (else those keys are absent)
        out += quantiles_ms(first_socket_ms, "first_socket") +
               quantiles_ms(last_socket_ms, "last_socket");
    }
    out += " rss0_kb=" + std::to_string(before.rss) + " anon0_kb=" + std::to_string(before.anon) +
           " rss_connected_kb=" + std::to_string(connected_memory.rss) +
           " rss_kb=" + std::to_string(after.rss) + " anon_kb=" + std::to_string(after.anon) +
           " hwm_kb=" + std::to_string(after.hwm) + " rss_held_kb=" + std::to_string(held.rss) +
           " per_viewer_connected_kb=" + per_viewer(connected_memory) +
           " per_viewer_kb=" + per_viewer(after);
    out += " metric_viewers=" + metric_viewers + " metric_dropped=" + metric_dropped + cpu;
    (void)std::printf("%s\n", out.c_str());

    const bool ok = connected && delivered == events && complete == viewers &&
                    fanout.failed() == 0 && metric_viewers == std::to_string(viewers) &&
                    metric_dropped == "0";
    if (!ok) {
        (void)std::fprintf(
            stderr,
            "gateway_fanout: ERROR: %zu viewers: %zu of %zu events delivered to "
            "all, %zu viewers got every event, %zu failed; /metrics: viewers %s, "
            "dropped %s; first problem: %s\n",
            viewers, delivered, events, complete, fanout.failed(), metric_viewers.c_str(),
            metric_dropped.c_str(),
            fanout.first_error().empty() ? "none recorded" : fanout.first_error().c_str());
    }
    return ok ? 0 : 1;
}

}  // namespace

}  // namespace bench

int main(int argc, char** argv) {
    (void)std::signal(SIGPIPE, SIG_IGN);  // the gateway closing on us is reported, not fatal
    (void)bench::raise_descriptor_limit();
    try {
        return bench::run(bench::Options(argc, argv));
    } catch (const bench::UsageError& e) {
        (void)std::fprintf(stderr, "gateway_fanout: %s (see bench/gateway_fanout.cpp)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "gateway_fanout: %s\n", e.what());
        return 1;
    }
}
