#include "fanout_common.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <exception>
#include <fstream>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include "options.hpp"
#include "stats.hpp"

namespace bench {

namespace asio = boost::asio;

std::uint64_t raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 0;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &limit);
        (void)getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

tcp::endpoint gateway_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
    if (host != "127.0.0.1" && host != "localhost") {
        throw UsageError("--gateway must be 127.0.0.1:PORT, got '" + text + "'");
    }
    long port = 0;
    try {
        port = std::stol(text.substr(colon + 1));
    } catch (const std::exception&) {
        port = 0;
    }
    if (port < 1 || port > 65535) {
        throw UsageError("--gateway must be 127.0.0.1:PORT, got '" + text + "'");
    }
    return {asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)};
}

Memory memory_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    Memory memory;
    std::string key;
    long value = 0;
    while (status >> key) {
        if ((key == "VmRSS:" || key == "VmHWM:" || key == "RssAnon:" || key == "Threads:") &&
            status >> value) {
            (key == "VmRSS:"     ? memory.rss
             : key == "VmHWM:"   ? memory.hwm
             : key == "RssAnon:" ? memory.anon
                                 : memory.threads) = value;
        }
        status.ignore(4096, '\n');
    }
    return memory;
}

std::optional<std::string> http_get(const tcp::endpoint& gateway, const std::string& target) {
    asio::io_context io;
    tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect(gateway, ec);
    if (ec) {
        return std::nullopt;
    }
    const timeval timeout{5, 0};  // a stuck gateway must not stall the benchmark
    (void)::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(request), ec);
    std::string response;
    std::array<char, 4096> buffer{};
    while (!ec) {
        const std::size_t got = socket.read_some(asio::buffer(buffer), ec);
        response.append(buffer.data(), got);
    }
    if (ec != asio::error::eof || response.rfind("HTTP/1.1 ", 0) != 0) {
        return std::nullopt;
    }
    return response;
}

bool wait_healthy(const tcp::endpoint& gateway, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (http_get(gateway, "/healthz").value_or("").rfind("HTTP/1.1 200", 0) != 0) {
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

std::string metric(const std::string& text, const std::string& name) {
    const std::string wanted = "\n" + name + " ";
    const auto at = text.find(wanted);
    if (at == std::string::npos) {
        return "?";
    }
    const auto from = at + wanted.size();
    return text.substr(from, text.find_first_of("\r\n", from) - from);
}

int bind_source(int fd, std::size_t index, std::size_t sources) {
    const int on = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) != 0) {
        return errno;
    }
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_port = 0;
    const auto host =
        static_cast<std::uint32_t>(0x7f000002U + index % std::max<std::size_t>(sources, 1));
    source.sin_addr.s_addr = htonl(host);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
        return errno;
    }
    return 0;
}

std::int64_t realtime_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string quantiles_ms(std::vector<double> ms, const std::string& prefix) {
    std::sort(ms.begin(), ms.end());
    return " " + prefix + "_p50_ms=" + fixed(quantile(ms, 0.5), 2) + " " + prefix +
           "_p90_ms=" + fixed(quantile(ms, 0.9), 2) + " " + prefix +
           "_p99_ms=" + fixed(quantile(ms, 0.99), 2) + " " + prefix +
           "_max_ms=" + fixed(quantile(ms, 1.0), 2);
}

}  // namespace bench
