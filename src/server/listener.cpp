#include "server/listener.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/producer_session.hpp"
#include "server/server.hpp"
#include "server/startup.hpp"

namespace bscd {

namespace local = boost::asio::local;

void Listener::claim_path(const std::string& path) {
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        throw StartupError(fmt::format("socket path {} is too long (at most {} bytes)", path,
                                       sizeof(sockaddr_un::sun_path) - 1));
    }
    require_writable_parent(path);
    struct stat info {};
    if (lstat(path.c_str(), &info) != 0) {
        return;  // free
    }
    if (!S_ISSOCK(info.st_mode)) {
        throw StartupError(fmt::format("{} exists and is not a socket; not touching it", path));
    }
    boost::asio::io_context probe_io;  // start-up runs before the daemon's loop exists
    local::stream_protocol::socket probe(probe_io);
    boost::system::error_code ec;
    probe.connect(local::stream_protocol::endpoint(path), ec);
    if (!ec) {
        throw StartupError(fmt::format("Address already in use: a daemon is serving {}", path));
    }
    if (ec != boost::asio::error::connection_refused) {
        throw StartupError(fmt::format("cannot check socket {}: {}", path, ec.message()));
    }
    if (::unlink(path.c_str()) != 0) {
        throw StartupError(
            fmt::format("cannot remove stale socket {}: {}", path, std::strerror(errno)));
    }
    spdlog::info("Removed stale socket {} (no daemon was listening on it)", path);
}

Listener::Listener(boost::asio::io_context& io, std::string path, Server& server)
    : io_(io), path_(std::move(path)), server_(server), acceptor_(io), retry_timer_(io) {}

void Listener::start() {
    const local::stream_protocol::endpoint endpoint(path_);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (ec == boost::asio::error::address_in_use) {
        throw StartupError(fmt::format("Address already in use: {}", path_));
    }
    if (!ec) {
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw StartupError(fmt::format("cannot listen on {}: {}", path_, ec.message()));
    }
    open_ = true;
    spdlog::info("Listening on {}", path_);
    accept();
}

void Listener::close() {
    if (!open_) {
        return;
    }
    open_ = false;
    boost::system::error_code ignored;
    retry_timer_.cancel();
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void Listener::accept() {
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec,
                                                       local::stream_protocol::socket peer) {
        self->on_accept(ec, std::move(peer));
    });
}

void Listener::on_accept(boost::system::error_code ec, local::stream_protocol::socket peer) {
    if (!open_) {
        return;
    }
    if (ec == boost::asio::error::no_descriptors || ec == boost::asio::error::no_buffer_space) {
        spdlog::warn("Cannot accept on {}: {}; retrying in 100 ms", path_, ec.message());
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
            if (!wait_ec) {
                self->accept();
            }
        });
        return;
    }
    if (ec) {
        spdlog::warn("Accept failed on {}: {}", path_, ec.message());
    } else if (server_.at_capacity()) {
        const auto peer_pid = peer_credentials(peer.native_handle()).pid;
        spdlog::warn("Refused a connection from pid {}: {} connections already open", peer_pid,
                     server_.session_count());
        static const std::string reply = "ERR too many connections\n";
        peer.non_blocking(true, ec);
        boost::asio::write(peer, boost::asio::buffer(reply), ec);  // best effort
    } else {
        std::make_shared<ProducerSession>(std::move(peer), server_)->start();
    }
    accept();
}

}  // namespace bscd
