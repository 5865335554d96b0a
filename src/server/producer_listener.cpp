#include "server/producer_listener.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/producer_session.hpp"
#include "server/server.hpp"
#include "server/socket_access.hpp"
#include "server/startup.hpp"

namespace bscd {

namespace local = boost::asio::local;

namespace {

// Answers a connection that will not be served, and closes it, without
// blocking: a peer that does not read misses the line, and that is all.
void refuse(local::stream_protocol::socket& peer, const std::string& reply) {
    boost::system::error_code ignored;
    peer.non_blocking(true, ignored);
    peer.send(boost::asio::buffer(reply), 0, ignored);
    // A request left unread would turn the peer's end of stream into a
    // reset (ECONNRESET): take what is there first.
    std::array<char, 4096> unread{};
    peer.receive(boost::asio::buffer(unread), 0, ignored);
    peer.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    peer.close(ignored);
}

}  // namespace

void ProducerListener::claim_path(const std::string& path) {
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

ProducerListener::ProducerListener(boost::asio::io_context& io, std::string path, Server& server)
    : path_(std::move(path)), server_(server), acceptor_(io), retry_timer_(io) {}

void ProducerListener::start() {
    const SocketAccess& access = server_.options().socket_access;
    const local::stream_protocol::endpoint endpoint(path_);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        // bind() creates the file with 0777 & ~umask, and an AF_UNIX socket
        // has no fchmod() that reaches its file: so bind under a umask that
        // leaves only the owner's bits, then set group and mode by path, all
        // before listen(). No moment opens the socket wider than asked.
        // (umask is per process; nothing else runs during start-up.)
        const mode_t saved = ::umask(bind_umask(access));
        acceptor_.bind(endpoint, ec);
        ::umask(saved);
    }
    if (ec == boost::asio::error::address_in_use) {
        throw StartupError(fmt::format("Address already in use: {}", path_));
    }
    if (!ec) {
        try {
            apply_socket_access(path_, access);
        } catch (const StartupError&) {
            ::unlink(path_.c_str());
            throw;
        }
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    }
    if (!ec) {
        // DescriptorReserve::refuse_one() accepts on this descriptor
        // directly: it must not block.
        acceptor_.non_blocking(true, ec);
    }
    if (ec) {
        throw StartupError(fmt::format("cannot listen on {}: {}", path_, ec.message()));
    }
    open_ = true;
    spdlog::info("Listening on {} (mode {:04o})", path_, access.mode);
    accept();
}

void ProducerListener::close() {
    if (!open_) {
        return;
    }
    open_ = false;
    boost::system::error_code ignored;
    retry_timer_.cancel();
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void ProducerListener::accept() {
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec,
                                                       local::stream_protocol::socket peer) {
        self->on_accept(ec, std::move(peer));
    });
}

void ProducerListener::on_accept(boost::system::error_code ec,
                                 local::stream_protocol::socket peer) {
    if (!open_) {
        return;
    }
    if (ec == boost::system::errc::too_many_files_open ||
        ec == boost::system::errc::too_many_files_open_in_system ||
        ec == boost::asio::error::no_buffer_space) {
        on_out_of_descriptors(ec);
        return;
    }
    if (ec) {
        spdlog::warn("Accept failed on {}: {}", path_, ec.message());
        accept();
        return;
    }
    const PeerCredentials credentials = peer_credentials(peer.native_handle());
    if (!server_.options().socket_access.authority.may_connect(credentials)) {
        spdlog::warn(
            "Refused a connection on {} from pid {} uid {} gid {}: not allowed "
            "(--allow-uid, --allow-gid)",
            path_, credentials.pid, credentials.uid, credentials.gid);
        refuse(peer, "ERR not allowed: uid " + std::to_string(credentials.uid) + "\n");
    } else if (server_.sessions().at_capacity()) {
        spdlog::warn("Refused a connection on {} from pid {}: {} connections already open", path_,
                     credentials.pid, server_.sessions().size());
        refuse(peer, "ERR too many connections\n");
    } else {
        std::make_shared<ProducerSession>(std::move(peer), server_)->start();
    }
    accept();
}

void ProducerListener::on_out_of_descriptors(boost::system::error_code ec) {
    // The connection is still waiting in the backlog: with the reserve's
    // descriptor it can at least hear why, instead of waiting for nothing.
    if (reserve_.refuse_one(acceptor_.native_handle(), "ERR too many open files\n")) {
        spdlog::warn("Refused a connection on {}: {}", path_, ec.message());
        accept();
        return;
    }
    spdlog::warn("Cannot accept on {}: {}; retrying in 100 ms", path_, ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (!wait_ec) {
            self->accept();
        }
    });
}

}  // namespace bscd
