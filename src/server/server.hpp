#pragma once
// The daemon (Beast chat example's `shared_state`): puts its parts together
// and is what the listener and the sessions talk to. Each concern has its
// own unit: who may connect and send EXIT (ProducerAuthority), what each
// request does (RequestHandler), the open sessions (ProducerSessions), and
// the graceful stop with the pid file and signals (ShutdownSequence).

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/catalog.hpp"
#include "core/request.hpp"
#include "redis/publisher.hpp"
#include "server/producer_sessions.hpp"
#include "server/request_handler.hpp"
#include "server/server_options.hpp"
#include "server/shutdown_sequence.hpp"
#include "server/spool.hpp"

namespace bscd {

class ProducerListener;
class ProducerSession;

class Server {
public:
    // `spool` is null without --spool.
    Server(boost::asio::io_context& io, const ServerOptions& options, const Catalog& catalog,
           Publisher& publisher, Spool* spool);
    ~Server();

    // Listens, then arms the shutdown sequence (the pid file, if any, so it
    // appears only once the socket accepts; SIGTERM/SIGINT). Throws
    // StartupError.
    void serve();

    // 0 when every accepted code reached Redis, 1 otherwise.
    [[nodiscard]] int exit_status() const { return shutdown_.exit_status(); }

    // For the listener and the sessions.
    ProducerSessions& sessions() { return sessions_; }
    [[nodiscard]] const Catalog& catalog() const { return catalog_; }
    [[nodiscard]] const ServerOptions& options() const { return options_; }
    [[nodiscard]] std::chrono::milliseconds idle_timeout() const { return options_.idle_timeout; }

    // What one read's requests get (RequestHandler::handle); an accepted
    // EXIT starts the shutdown.
    RequestHandler::Answer handle(const std::vector<Request>& requests, ProducerSession& from);

private:
    boost::asio::io_context& io_;
    const ServerOptions& options_;
    const Catalog& catalog_;
    std::shared_ptr<ProducerListener> listener_;
    ProducerSessions sessions_;
    RequestHandler requests_;
    ShutdownSequence shutdown_;
};

}  // namespace bscd
