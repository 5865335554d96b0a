#pragma once
// Command-line options shared by the programs, so every program spells and
// documents them the same way.

#include <string_view>

#include <CLI/CLI.hpp>

#include "redis/redis_options.hpp"

namespace bscd {

// -H/--redis-host, -P/--redis-port, --redis-socket, --redis-user,
// --redis-password-file, --redis-password, --redis-db, with REDIS_HOST,
// REDIS_PORT, REDIS_USER and REDIS_PASSWORD as defaults.
void add_redis_options(CLI::App& app, RedisOptions& options);

// Overwrites the value of every --redis-password in argv with 'x's, so that
// ps and /proc/PID/cmdline no longer show it, and then warns on stderr,
// naming `program`. Call it once the command line has been parsed (CLI11
// keeps its own copies of the arguments). argv[0] is skipped.
void hide_redis_password(std::string_view program, int argc, char** argv);

// The password in `path`: its first line, without the line end. Throws
// CLI::ValidationError naming the file when it cannot be read or the line is
// empty.
std::string read_password_file(const std::string& path);

}  // namespace bscd
