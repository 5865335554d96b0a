#pragma once
// Accepts HTTP connections and hands each to an HttpSession (Beast chat
// example's `listener`) on one of the gateway's event loops, in turn; it
// runs on loop 0. Over --max-connections, a connection gets a short
// 503 and is closed. So does one that arrives when the process is out of
// descriptors (accepted with a descriptor held in reserve for that), rather
// than waiting unanswered in the backlog; when not even that works,
// accepting pauses briefly instead of spinning.

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/descriptor_reserve.hpp"

namespace bscd {

class Gateway;
class ViewerLoop;

class Listener : public std::enable_shared_from_this<Listener> {
public:
    explicit Listener(Gateway& gateway);

    // Binds and listens on the configured address. Throws std::runtime_error
    // naming the address and the cause (e.g. "Address already in use").
    void start();
    void close();

private:
    void accept();
    void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket peer,
                   ViewerLoop& loop);
    void refuse(boost::asio::ip::tcp::socket peer);
    void out_of_descriptors(boost::system::error_code ec);
    void retry_later();  // accept() again in 100 ms

    Gateway& gateway_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    DescriptorReserve reserve_;
    bool exhausted_ = false;  // out of descriptors since the last accept: logged once
};

}  // namespace bscd
