#pragma once
// The daemon's shared state (Beast chat example's `shared_state`): the
// catalog, the publisher, the open sessions; decides what each request does
// and runs the graceful shutdown.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/catalog.hpp"
#include "core/request.hpp"
#include "redis/publisher.hpp"
#include "server/peer_credentials.hpp"
#include "server/pid_file.hpp"
#include "server/server_options.hpp"
#include "server/spool.hpp"

namespace bscd {

class Listener;
class ProducerSession;

class Server {
public:
    // `spool` is null without --spool.
    Server(boost::asio::io_context& io, const ServerOptions& options, const Catalog& catalog,
           Publisher& publisher, Spool* spool);
    ~Server();

    // Listens, then writes the pid file if there is one (so it appears only
    // once the socket accepts), and handles SIGTERM/SIGINT. Throws StartupError.
    void serve();

    // Graceful stop: stop accepting, close sessions, let the publisher hand
    // Redis what it holds (bounded by --shutdown-timeout), remove the socket
    // and pid file, answer any EXIT. Nothing is left to do afterwards, so
    // the event loop's run() returns: operations end before the objects
    // they refer to, and no handler outlives the Server.
    void shutdown(const std::string& reason);

    // 0 when every accepted code reached Redis, 1 otherwise.
    [[nodiscard]] int exit_status() const { return exit_status_; }

    // For sessions.
    void join(ProducerSession* session) { sessions_.insert(session); }
    void leave(ProducerSession* session);
    [[nodiscard]] bool at_capacity() const { return sessions_.size() >= options_.max_connections; }
    [[nodiscard]] std::size_t session_count() const { return sessions_.size(); }
    [[nodiscard]] const Catalog& catalog() const { return catalog_; }
    [[nodiscard]] const ServerOptions& options() const { return options_; }
    [[nodiscard]] std::chrono::milliseconds idle_timeout() const { return options_.idle_timeout; }

    // What one read's requests get: their reply lines, in order, and whether
    // one was an accepted EXIT. An EXIT is answered (answer_exit) once the
    // shutdown it starts is complete; the requests after it are not handled
    // but still get a reply each (`after_exit`), written after the EXIT's.
    // With a spool, the codes are durable before this returns their OKs.
    struct Answer {
        std::string replies;
        bool exit_requested = false;
        std::string after_exit;
    };
    Answer handle(const std::vector<Request>& requests, ProducerSession& from);

private:
    // The reply to one code; appends it to the spool (if any) or sends it.
    std::string accept(const StatusCode& code, const PeerCredentials& peer);
    // Syncs the spool and sends the codes appended to it; the reason when
    // that failed (and the codes were not accepted after all).
    std::optional<std::string> commit_spooled();
    void finish();
    void flush_logs_periodically();

    boost::asio::io_context& io_;
    const ServerOptions& options_;
    const Catalog& catalog_;
    Publisher& publisher_;
    Spool* spool_;
    std::vector<Delivery> spooled_;  // appended to the spool, not yet synced and sent
    std::shared_ptr<Listener> listener_;
    std::optional<PidFile> pid_file_;
    std::unordered_set<ProducerSession*> sessions_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer shutdown_timer_;
    boost::asio::steady_timer log_flush_timer_;
    boost::asio::steady_timer linger_timer_;  // bounds the last writes after finish()
    std::vector<std::weak_ptr<ProducerSession>> exit_requesters_;
    bool shutting_down_ = false;
    bool finished_ = false;
    int exit_status_ = 0;
};

}  // namespace bscd
