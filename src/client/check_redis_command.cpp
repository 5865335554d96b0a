#include "client/check_redis_command.hpp"

#include <csignal>

#include "client/client_error.hpp"
#include "client/command_line.hpp"
#include "common/cli_options.hpp"
#include "redis/sync_client.hpp"

namespace bscd::client {

int run_check_redis_command(int argc, char** argv) {
    CLI::App app(
        "Checks that Redis answers PING (with AUTH and SELECT when given): exits 0 if it does, "
        "1 with the reason otherwise. Compatible with Pieman's check_redis.py.",
        "bsc check-redis");
    RedisOptions options;
    add_redis_options(app, options);
    double timeout_seconds = 2;
    add_timeout_option(app, timeout_seconds, "Seconds to wait for Redis");

    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    // hiredis writes with plain write(): a Redis that hung up (maxclients,
    // timeout) must be an error message, not a SIGPIPE death.
    (void)std::signal(SIGPIPE, SIG_IGN);
    try {
        SyncClient client(options, to_timeout(timeout_seconds));
        client.ping();
    } catch (const RedisError& error) {
        throw ClientError(error.what());
    }
    return 0;
}

}  // namespace bscd::client
