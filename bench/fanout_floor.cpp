// gateway_fanout --mode floor: the kernel's floor under bscd-gateway's
// fan-out (bench/run.sh, section (h)).
//
//   gateway_fanout --mode floor --viewers N [--rounds 30] [--frame-bytes 120]
//                  [--gap-ms 100] [--sources 8]
//
// One thread writes the same frame (an SSE event in a chunk of the given
// size) with one send() each to N connected loopback TCP sockets, R rounds,
// GAP ms apart. Per round: the writer thread's CPU (getrusage
// RUSAGE_THREAD) per socket, the time its loop took, and when the last of
// the N receiving sockets had the frame (SO_TIMESTAMPNS, read by a child
// process that holds the receiving ends). On loopback the sender also does
// the receiver's TCP work, as the gateway does for its viewers.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fanout_common.hpp"
#include "fanout_modes.hpp"
#include "options.hpp"
#include "stats.hpp"

namespace bench {

namespace {

// Writes all of `size` bytes, or false.
bool write_all(int fd, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t done = ::write(fd, bytes, size);
        if (done < 0 && errno == EINTR) {
            continue;
        }
        if (done <= 0) {
            return false;
        }
        bytes += done;
        size -= static_cast<std::size_t>(done);
    }
    return true;
}

// Reads all of `size` bytes within `timeout_ms`, or false.
bool read_all(int fd, void* data, std::size_t size, int timeout_ms) {
    auto* bytes = static_cast<char*>(data);
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (size > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd ready{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        const ssize_t got = ::read(fd, bytes, size);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        bytes += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

double thread_cpu_us() {
    rusage usage{};
    (void)getrusage(RUSAGE_THREAD, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// The child: connects N sockets to `port`, says 'c' (or 'e'), then for each
// 'r' reads one frame from every socket and answers the first and the last
// kernel receive time; exits on 'q' or when the parent is gone.
[[noreturn]] void receiver(unsigned short port, std::size_t n, std::size_t sources,
                           std::size_t frame, int commands, int replies) {
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<int> sockets;
    sockets.reserve(n);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const timeval timeout{10, 0};
    const int on = 1;
    char status = 'c';
    for (std::size_t i = 0; i < n; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        if (fd < 0 || bind_source(fd, i, sources) != 0 ||
            ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            (void)std::fprintf(stderr, "gateway_fanout: floor: connection %zu: %s\n", i + 1,
                               std::strerror(errno));
            status = 'e';
            break;
        }
        (void)::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        sockets.push_back(fd);
    }
    (void)write_all(replies, &status, 1);
    std::vector<char> buffer(frame);
    char command = 0;
    while (read_all(commands, &command, 1, 600'000) && command == 'r') {
        std::array<std::int64_t, 2> times{INT64_MAX, 0};
        for (const int fd : sockets) {
            std::size_t got = 0;
            std::int64_t at = 0;
            while (got < frame) {
                iovec data{buffer.data() + got, frame - got};
                alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control{};
                msghdr message{};
                message.msg_iov = &data;
                message.msg_iovlen = 1;
                message.msg_control = control.data();
                message.msg_controllen = control.size();
                const ssize_t n_read = ::recvmsg(fd, &message, 0);
                if (n_read <= 0) {
                    times = {-1, -1};
                    break;
                }
                for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
                     c = CMSG_NXTHDR(&message, c)) {
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && at == 0) {
                        timespec stamp{};
                        std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
                        at = stamp.tv_sec * 1'000'000'000LL + stamp.tv_nsec;
                    }
                }
                got += static_cast<std::size_t>(n_read);
            }
            if (times[0] < 0) {
                break;
            }
            times[0] = std::min(times[0], at);
            times[1] = std::max(times[1], at);
        }
        (void)write_all(replies, times.data(), sizeof times);
    }
    ::_exit(0);
}

}  // namespace

int run_floor(const Options& options) {
    const auto n = static_cast<std::size_t>(options.integer("viewers", 1000, 1, 60'000));
    const auto rounds = static_cast<std::size_t>(options.integer("rounds", 30, 1, 10'000));
    const auto frame_bytes = static_cast<std::size_t>(options.integer("frame-bytes", 120, 8, 4096));
    const auto gap = std::chrono::milliseconds(options.integer("gap-ms", 100, 0, 10'000));
    const auto sources = static_cast<std::size_t>(options.integer("sources", 8, 1, 250));
    (void)options.text("mode");
    options.reject_unknown();

    // A frame as the gateway sends one: a chunk holding an SSE event.
    std::string frame(frame_bytes, 'x');
    const std::string head = "60\r\nid: 1764979200000-0\ndata: {\"code\":10}\n\n";
    frame.replace(0, std::min(head.size(), frame.size()), head.substr(0, frame.size()));
    frame.replace(frame.size() - 2, 2, "\r\n");

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (listener < 0 ||
        ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener, 4096) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
        (void)std::fprintf(stderr, "gateway_fanout: floor: listen: %s\n", std::strerror(errno));
        return 1;
    }
    std::array<int, 2> commands{};
    std::array<int, 2> replies{};
    if (::pipe2(commands.data(), O_CLOEXEC) != 0 || ::pipe2(replies.data(), O_CLOEXEC) != 0) {
        return 1;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        (void)std::fprintf(stderr, "gateway_fanout: floor: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (child == 0) {
        ::close(listener);
        ::close(commands[1]);
        ::close(replies[0]);
        receiver(ntohs(address.sin_port), n, sources, frame.size(), commands[0], replies[1]);
    }
    ::close(commands[0]);
    ::close(replies[1]);
    const int to_child = commands[1];
    const int from_child = replies[0];

    std::vector<int> sockets;
    sockets.reserve(n);
    std::string error;
    const auto connect_start = Clock::now();
    while (sockets.size() < n) {
        pollfd ready{listener, POLLIN, 0};
        if (::poll(&ready, 1, 10'000) <= 0) {
            error = "the child's connections did not come";
            break;
        }
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            error = std::string("accept: ") + std::strerror(errno);
            break;
        }
        sockets.push_back(fd);
    }
    const double connect_s = seconds_between(connect_start, Clock::now());
    char status = 'e';
    if (error.empty() && (!read_all(from_child, &status, 1, 10'000) || status != 'c')) {
        error = "the child could not connect every socket";
    }

    std::vector<double> cpu_us_per_socket;
    std::vector<double> loop_ms;
    std::vector<double> last_ms;
    std::vector<double> first_ms;
    double cpu_total_us = 0;
    for (std::size_t round = 0; error.empty() && round < rounds; ++round) {
        std::this_thread::sleep_for(gap);  // a pace between rounds, as between a build's codes
        const std::int64_t started_ns = realtime_ns();
        const auto started = Clock::now();
        const double cpu_before = thread_cpu_us();
        for (const int fd : sockets) {
            if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) !=
                static_cast<ssize_t>(frame.size())) {
                error = std::string("send: ") + std::strerror(errno);
                break;
            }
        }
        const double cpu = thread_cpu_us() - cpu_before;
        const auto ended = Clock::now();
        const char command = 'r';
        std::array<std::int64_t, 2> times{};
        if (!error.empty() || !write_all(to_child, &command, 1) ||
            !read_all(from_child, times.data(), sizeof times, 30'000) || times[1] <= 0) {
            if (error.empty()) {
                error = "the child did not receive every frame";
            }
            break;
        }
        cpu_total_us += cpu;
        cpu_us_per_socket.push_back(cpu / static_cast<double>(n));
        loop_ms.push_back(seconds_between(started, ended) * 1e3);
        first_ms.push_back(static_cast<double>(times[0] - started_ns) / 1e6);
        last_ms.push_back(static_cast<double>(times[1] - started_ns) / 1e6);
    }
    const char quit = 'q';
    (void)write_all(to_child, &quit, 1);
    ::close(to_child);
    int child_status = 0;
    const auto reap_by = Clock::now() + std::chrono::seconds(10);
    while (::waitpid(child, &child_status, WNOHANG) == 0) {
        if (Clock::now() >= reap_by) {
            (void)::kill(child, SIGKILL);
            (void)::waitpid(child, &child_status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (const int fd : sockets) {
        ::close(fd);
    }
    ::close(listener);
    ::close(from_child);

    std::sort(cpu_us_per_socket.begin(), cpu_us_per_socket.end());
    const std::size_t done = loop_ms.size();
    std::string out = "floor viewers=" + std::to_string(n) + " rounds=" + std::to_string(done) +
                      " frame_bytes=" + std::to_string(frame.size()) +
                      " connect_s=" + fixed(connect_s, 2) + " cpu_us_per_socket=" +
                      fixed(done > 0 ? cpu_total_us / static_cast<double>(done * n) : 0, 3) +
                      " cpu_us_per_socket_p50=" + fixed(quantile(cpu_us_per_socket, 0.5), 3) +
                      quantiles_ms(loop_ms, "loop") + quantiles_ms(first_ms, "first_socket") +
                      quantiles_ms(last_ms, "last_socket");
    (void)std::printf("%s\n", out.c_str());
    if (!error.empty() || done != rounds) {
        (void)std::fprintf(stderr, "gateway_fanout: ERROR: floor, %zu sockets: %s\n", n,
                           error.empty() ? "incomplete" : error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace bench
