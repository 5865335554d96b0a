#pragma once
// One producer connection (Beast chat example's session): reads requests,
// asks the Server what each means, writes one reply line per request.
// Reading and writing alternate, so a client that does not read its replies
// stops being read from instead of growing a buffer in bscd.

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/line_framer.hpp"
#include "server/peer_credentials.hpp"

namespace bscd {

class Server;

class ProducerSession : public std::enable_shared_from_this<ProducerSession> {
public:
    ProducerSession(boost::asio::local::stream_protocol::socket socket, Server& server);
    ~ProducerSession();

    void start();

    // Shutting down: finish the reply being written, then close.
    void stop();

    // Drops the connection now, whatever is being written.
    void close();

    // Answers the EXIT this session sent, once the server has shut down, and
    // the requests that followed it, then closes.
    void answer_exit(const std::string& reply);

    [[nodiscard]] const PeerCredentials& peer() const { return peer_; }

    // Counts a rejected request; true for the first few, which are worth a
    // log line each (a client sending garbage must not flood the log; the
    // rest are counted in one line when the connection ends).
    bool note_rejection() { return ++rejected_ <= rejections_logged; }
    static constexpr std::size_t rejections_logged = 10;

private:
    void read();
    void on_read(boost::system::error_code ec, std::size_t size);
    void write();
    void watch_idle();

    boost::asio::local::stream_protocol::socket socket_;
    Server& server_;
    PeerCredentials peer_;
    LineFramer framer_;
    std::array<char, 4096> buffer_{};
    std::string replies_;
    std::string replies_after_exit_;  // to the requests that followed an EXIT
    boost::asio::steady_timer idle_timer_;
    std::chrono::steady_clock::time_point last_activity_;
    // When the request being read began (nullopt between requests): a request
    // trickled in a byte at a time must not hold a connection for ever.
    std::optional<std::chrono::steady_clock::time_point> request_started_;
    std::size_t rejected_ = 0;
    bool writing_ = false;
    bool stopping_ = false;
    bool exit_requested_ = false;  // EXIT sent: everything after it is ignored
    bool at_eof_ = false;
};

}  // namespace bscd
