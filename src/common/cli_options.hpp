#pragma once
// Command-line options shared by the programs, so every program spells and
// documents them the same way.

#include <CLI/CLI.hpp>

#include "redis/redis_options.hpp"

namespace bscd {

// -H/--redis-host, -P/--redis-port, --redis-socket, --redis-password,
// --redis-db, with REDIS_HOST, REDIS_PORT and REDIS_PASSWORD as defaults.
void add_redis_options(CLI::App& app, RedisOptions& options);

}  // namespace bscd
