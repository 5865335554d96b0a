#pragma once
// A raw producer for tests: exact bytes onto a bscd socket, replies back.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace bscd::test {

// A connected Unix stream socket, closed on destruction.
class ProducerClient {
public:
    explicit ProducerClient(const std::string& socket_path);  // throws on failure
    ~ProducerClient();
    ProducerClient(const ProducerClient&) = delete;
    ProducerClient& operator=(const ProducerClient&) = delete;

    void write(std::string_view bytes);
    // True when a write would not block within `timeout`.
    bool wait_writable(std::chrono::milliseconds timeout);
    // Writes what fits without blocking: bytes written, 0 when none fit.
    std::size_t write_nonblocking(std::string_view bytes);
    void close_write();  // half-close: end of stream for bscd
    // Reads until `lines` reply lines arrived, the peer closed, or timeout.
    std::string read_lines(std::size_t lines,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True when bscd closed the connection within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};

// Sends `bytes`, half-closes, and returns every reply until bscd closes.
std::string exchange(const std::string& socket_path, std::string_view bytes,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace bscd::test
