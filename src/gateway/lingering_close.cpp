#include "gateway/lingering_close.hpp"

#include <array>
#include <memory>

namespace bscd {
namespace {

constexpr auto linger = std::chrono::seconds(1);

void discard_until_closed(const std::shared_ptr<boost::beast::tcp_stream>& stream) {
    static std::array<char, 4096> discarded;  // never read: any buffer will do
    stream->async_read_some(boost::asio::buffer(discarded),
                            [stream](boost::system::error_code ec, std::size_t /*bytes*/) {
                                if (!ec) {
                                    discard_until_closed(stream);
                                }
                            });
}

}  // namespace

void lingering_close(const std::shared_ptr<boost::beast::tcp_stream>& stream) {
    boost::system::error_code ignored;
    stream->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream->expires_after(linger);  // closes the socket when it runs out
    discard_until_closed(stream);
}

void lingering_close(boost::beast::tcp_stream stream) {
    lingering_close(std::make_shared<boost::beast::tcp_stream>(std::move(stream)));
}

}  // namespace bscd
