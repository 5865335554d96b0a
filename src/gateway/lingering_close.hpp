#pragma once
// Closing a connection right after answering it, while the client may still
// be sending (a body too large, a request we refused unread), makes the
// kernel reset it, and the client may lose the answer before reading it.
// So: stop sending, read and discard until the client closes, for a second
// at most (Apache's "lingering close").

#include <memory>

#include <boost/beast/core/tcp_stream.hpp>

namespace bscd {

void lingering_close(const std::shared_ptr<boost::beast::tcp_stream>& stream);
void lingering_close(boost::beast::tcp_stream stream);

}  // namespace bscd
