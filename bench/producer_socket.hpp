#pragma once
// A producer's end of bscd's Unix stream socket, in plain POSIX calls (as
// Pieman's client and bsc use it): connect, write requests, read reply lines.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace bench {

class ProducerSocket {
public:
    // Connects to `path`. Reads and writes give up after `timeout`, so a
    // stuck daemon ends a measurement instead of hanging it.
    // Throws std::system_error.
    ProducerSocket(const std::string& path, std::chrono::milliseconds timeout);
    ~ProducerSocket();
    ProducerSocket(const ProducerSocket&) = delete;
    ProducerSocket& operator=(const ProducerSocket&) = delete;

    // Writes all of `data`. Throws std::system_error.
    void write_all(std::string_view data);

    // Reads until `lines` reply lines arrived; returns how many were "OK".
    // Throws std::system_error on a read error, timeout or early end of stream.
    std::size_t read_replies(std::size_t lines);

    // One read without waiting (the caller polled fd()): takes the reply
    // lines that came, at most `awaited`, which it decreases; returns how many
    // were "OK". Throws std::system_error as read_replies() does.
    std::size_t read_available(std::size_t& awaited);

    [[nodiscard]] int fd() const { return fd_; }

    // Closes now (Pieman's client: write, then close without reading).
    void close();

private:
    // Counts the reply lines in `data` against `awaited`; returns the "OK"s.
    std::size_t take_lines(const char* data, std::size_t size, std::size_t& awaited);

    int fd_ = -1;
    std::string pending_;  // bytes of an incomplete reply line
};

}  // namespace bench
