#pragma once
// A program's TCP links as the kernel sees them (/proc), so that a test can
// tell when a program opened or dropped a link without reading its log.

#include <set>
#include <sys/types.h>

namespace bscd::test {

// The inodes of the TCP sockets `pid` holds open whose peer is port `port`
// (IPv4 or IPv6, any state: a link the peer closed counts until the program
// closes its end). Empty when the process is gone.
std::set<unsigned long> tcp_sockets_to(pid_t pid, int port);

}  // namespace bscd::test
