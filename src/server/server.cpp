#include "server/server.hpp"

#include <spdlog/spdlog.h>

#include "server/producer_listener.hpp"
#include "server/producer_session.hpp"

namespace bscd {

Server::Server(boost::asio::io_context& io, const ServerOptions& options, const Catalog& catalog,
               Publisher& publisher, Spool* spool)
    : io_(io),
      options_(options),
      catalog_(catalog),
      sessions_(options.max_connections),
      requests_(options, publisher, spool),
      shutdown_(io, options, publisher, spool, sessions_, [this] {
          if (listener_) {
              listener_->close();
          }
      }) {}

Server::~Server() = default;

void Server::serve() {
    listener_ = std::make_shared<ProducerListener>(io_, options_.socket_path, *this);
    listener_->start();
    try {
        shutdown_.arm();
    } catch (...) {
        listener_->close();
        throw;
    }
    spdlog::info("Serving project channel {} (pid file {})", options_.channel,
                 options_.pid_file.empty() ? "none" : options_.pid_file);
}

RequestHandler::Answer Server::handle(const std::vector<Request>& requests, ProducerSession& from) {
    RequestHandler::Answer answer = requests_.handle(requests, from);
    if (answer.exit_requested) {
        shutdown_.request_exit(from.weak_from_this(), from.peer().pid);
    }
    return answer;
}

}  // namespace bscd
