#pragma once

namespace bscd::test {

// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read
// back, released. Another process may take it before the caller binds it, so
// callers must retry on "address in use".
int free_port();

}  // namespace bscd::test
