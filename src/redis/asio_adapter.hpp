#pragma once
// Drives a hiredis async context from a Boost.Asio event loop, the way
// hiredis' own adapters (ae, libev, libuv) do for other loops: hiredis says
// when it wants to read or write its socket; we wait for readiness on the
// io_context and call back into hiredis.

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace bscd {

// Returns false (and attaches nothing) when the context already has an
// adapter. The adapter is released by hiredis when the context is freed.
bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io);

}  // namespace bscd
