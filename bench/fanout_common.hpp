#pragma once
// What gateway_fanout's three modes share (bench/run.sh, section (h)): the
// gateway's address and memory, plain HTTP requests to it, the descriptor
// limit, and loopback source addresses for tens of thousands of connections.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace bench {

using tcp = boost::asio::ip::tcp;

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit
// now in force.
std::uint64_t raise_descriptor_limit();

// The gateway's address; loopback only: the benchmark must never load a
// server it did not start. Throws UsageError.
tcp::endpoint gateway_endpoint(const std::string& text);

// A process's memory from /proc/PID/status, in kB (-1 when unreadable),
// and its thread count.
struct Memory {
    long rss = -1;
    long hwm = -1;
    long anon = -1;
    long threads = -1;
};
Memory memory_of(pid_t pid);

// A whole response to `GET target` over a new blocking connection (the
// gateway closes it: Connection: close); nullopt when it cannot be had
// within a few seconds.
std::optional<std::string> http_get(const tcp::endpoint& gateway, const std::string& target);

// Polls /healthz until it answers 200; false after `seconds`.
bool wait_healthy(const tcp::endpoint& gateway, int seconds);

// The value of the sample `name` (with its labels) in a Prometheus text.
std::string metric(const std::string& text, const std::string& name);

// A loopback connection costs a local port, and 127.0.0.1 has some 28,000
// of them (net.ipv4.ip_local_port_range) for one destination, fewer while
// earlier connections linger in TIME_WAIT. So the i-th connection is bound
// to 127.0.0.(2 + i % sources) before its connect, the port left to the
// connect (IP_BIND_ADDRESS_NO_PORT). Returns 0 or an errno.
int bind_source(int fd, std::size_t index, std::size_t sources);

// Now in CLOCK_REALTIME ns, the clock of the kernel's receive times.
std::int64_t realtime_ns();

// " PREFIX_p50_ms=... PREFIX_p90_ms=... PREFIX_p99_ms=... PREFIX_max_ms=..."
std::string quantiles_ms(std::vector<double> ms, const std::string& prefix);

}  // namespace bench
