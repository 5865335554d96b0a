#pragma once

namespace bscd::test {

// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read
// back, released. Another process may take it before the caller binds it, so
// callers must retry on "address in use".
int free_port();

// How many free ports a server's launch tries, one after another, before it
// gives up: each may be taken between free_port() and the server's bind.
constexpr int free_port_attempts = 5;

}  // namespace bscd::test
