#pragma once
// The producer side of the producer protocol (docs/architecture.md, "Producer
// protocol"): requests out over one connection, one reply line ("OK" or
// "ERR <reason>") back for each.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace bscd::client {

// Sends every request, each followed by "\n", in one write over one
// connection to the bscd socket at `socket`, then reads one reply per
// request; the whole exchange must finish within `timeout`. Returns when
// bscd answered OK to every request. Otherwise throws ClientError with one
// line naming the first problem (and how many requests failed, when more
// than one did): ERR answers, no answer in time, connection closed, or the
// socket problems of ProducerConnection.
void send_requests(const std::string& socket, const std::vector<std::string>& requests,
                   std::chrono::milliseconds timeout);

// Why `request` cannot be sent as one request (it holds a newline, which
// would split it in two), or an empty string when it can.
std::string request_problem(std::string_view request);

}  // namespace bscd::client
