#pragma once
// Accepts producer connections on the daemon's Unix socket and hands each to
// a ProducerSession (Beast chat example's `listener`).

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/descriptor_reserve.hpp"

namespace bscd {

class Server;

class ProducerListener : public std::enable_shared_from_this<ProducerListener> {
public:
    // Before binding: the socket path must be free. A socket file nobody
    // listens on (a crashed daemon's) is removed, with a log line. Throws
    // StartupError "Address already in use" when a daemon answers there, and
    // a clear error when the path is not a socket or its directory is not
    // writable.
    static void claim_path(const std::string& path);

    ProducerListener(boost::asio::io_context& io, std::string path, Server& server);

    // Binds, gives the socket file its mode and group (the options' socket_access),
    // listens and starts accepting. Throws StartupError.
    void start();

    // Stops accepting and removes the socket file.
    void close();

private:
    void accept();
    void on_accept(boost::system::error_code ec, boost::asio::local::stream_protocol::socket peer);
    // Out of descriptors: refuses what waits with the reserve's help, or
    // tries again in a while.
    void on_out_of_descriptors(boost::system::error_code ec);

    std::string path_;
    Server& server_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;  // pause after EMFILE instead of spinning
    DescriptorReserve reserve_;              // to answer ERR when out of descriptors
    bool open_ = false;
};

}  // namespace bscd
