#pragma once
// `bsc check-redis [-H HOST] [-P PORT] [--redis-socket PATH] ...`: Pieman's
// check_redis.py. Exit 0 when Redis answers PING, else 1 and why.

namespace bscd::client {

// argv[0] is "check-redis". Returns the exit status; throws ClientError when
// Redis cannot be reached or does not answer PONG.
int run_check_redis_command(int argc, char** argv);

}  // namespace bscd::client
