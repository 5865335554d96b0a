#pragma once
// Small helpers over hiredis 0.14's synchronous API, shared by RedisServer,
// Subscriber and tests that need a raw connection (e.g. through a TcpProxy).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace bscd::test {

// A hiredis reply, converted recursively.
struct Reply {
    enum Type { String, Integer, Array, Nil, Status, Error };
    Type type = Nil;
    std::string str;  // String, Status and Error
    long long integer = 0;
    std::vector<Reply> elements;
};

// Converts a hiredis reply (a `const redisReply*`), recursively.
Reply to_reply(const void* redis_reply);

struct RedisContextFree {
    void operator()(redisContext* context) const;
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextFree>;

// A synchronous hiredis connection to host:port; `timeout` bounds the
// connection and every later read and write. AUTH first when `password` is
// not empty. Throws std::runtime_error naming the address and the cause.
RedisContextPtr connect_redis(const std::string& host, int port, std::chrono::milliseconds timeout,
                              const std::string& password = {});

// Sends one command and reads its reply. Throws std::runtime_error on an I/O
// error or timeout (the context is unusable afterwards); Redis errors come
// back as Reply::Error.
Reply redis_command(redisContext* context, const std::vector<std::string>& args);

// Whether a connection kept between commands can still be used: an idle one
// has nothing to read, so readable means the server closed it (or sent
// something unexpected), and a command sent on it would fail.
bool idle_and_open(redisContext* context);

}  // namespace bscd::test
