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

// Where a producer connection is in its life. Every transition is made by
// ProducerSession::on (producer_session.cpp), from one table.
enum class SessionState {
    Reading,             // waiting for requests
    Replying,            // writing the replies to a read; reads again after
    Closing,             // writing the last replies (end of stream, shutdown, EXIT); closes after
    AwaitingExitAnswer,  // sent an accepted EXIT: answered once the server has stopped
    Closed,              // the socket is closed; the session goes with its last operation
};

// What happens to a producer connection.
enum class SessionEvent {
    NothingToReply,  // a read brought no complete request
    Replies,         // a read's requests were answered
    LastReplies,     // the same, and the peer ended its stream
    ExitAccepted,    // a read held an EXIT the server accepted
    ExitAnswered,    // the server has stopped and answered that EXIT
    Written,         // the replies went out
    Stop,            // the server shuts down
    Lost,            // a read or write failed, the idle timeout, or the server's last word
};

class ProducerSession : public std::enable_shared_from_this<ProducerSession> {
public:
    ProducerSession(boost::asio::local::stream_protocol::socket socket, Server& server);
    ~ProducerSession();

    void start();

    // Shutting down: finish the reply being written, then close.
    void stop() { on(SessionEvent::Stop); }

    // Drops the connection now, whatever is being written.
    void close() { on(SessionEvent::Lost); }

    // Answers the EXIT this session sent, once the server has shut down, and
    // the requests that followed it, then closes.
    void answer_exit(const std::string& reply);

    [[nodiscard]] const PeerCredentials& peer() const { return peer_; }
    [[nodiscard]] SessionState state() const { return state_; }

    // Counts a rejected request; true for the first few, which are worth a
    // log line each (a client sending garbage must not flood the log; the
    // rest are counted in one line when the connection ends).
    bool note_rejection() { return ++rejected_ <= rejections_logged; }
    static constexpr std::size_t rejections_logged = 10;

private:
    // The one place the state changes: moves on by the table and starts
    // what the new state does (a read, a write, closing).
    void on(SessionEvent event);
    void read();
    void on_read(boost::system::error_code ec, std::size_t size);
    void write();
    void close_socket();
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
    SessionState state_ = SessionState::Reading;
};

}  // namespace bscd
