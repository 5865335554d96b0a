#pragma once
// Command-line options shared by the programs, so every program spells and
// documents them the same way.

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "redis/redis_options.hpp"

namespace bscd {

// -H/--redis-host, -P/--redis-port, --redis-socket, --redis-user,
// --redis-password-file, --redis-password, --redis-db, with REDIS_HOST,
// REDIS_PORT, REDIS_USER and REDIS_PASSWORD as defaults; and the two other
// topologies: --redis-sentinel (REDIS_SENTINELS), --redis-master-name
// (REDIS_MASTER_NAME), --redis-sentinel-user (REDIS_SENTINEL_USER),
// --redis-sentinel-password-file (REDIS_SENTINEL_PASSWORD holds the password
// itself), --redis-cluster (REDIS_CLUSTER).
//
// Sets the app's final callback, which checks, once everything is parsed,
// the rules no single option can (each a usage error, a CLI::ValidationError
// naming both sides): a Sentinel group or a Cluster, not both; neither with
// -H, -P or --redis-socket given on the command line (REDIS_HOST and
// REDIS_PORT are then ignored, so that a shell set up for one server keeps
// working); no --redis-db other than 0 in a Cluster. So the app must not set
// a final callback of its own.
void add_redis_options(CLI::App& app, RedisOptions& options);

// A secret that an option takes as its value, though every user sees
// arguments in ps: how the warning names it and what to use instead.
struct SecretOption {
    std::string_view name;     // "--redis-password"
    std::string_view what;     // "a password"
    std::string_view instead;  // "REDIS_PASSWORD or --redis-password-file"
};
inline constexpr SecretOption redis_password_option{"--redis-password", "a password",
                                                    "REDIS_PASSWORD or --redis-password-file"};

// Overwrites the value of every `secret.name` in argv ("--name VALUE" and
// "--name=VALUE") with 'x's, so that ps and /proc/PID/cmdline no longer show
// it, and then, when `warn`, warns on stderr, naming `program`. Call it once
// the command line has been parsed (CLI11 keeps its own copies of the
// arguments). argv[0] is skipped, and so is everything after "--". Returns
// whether there was a value to hide.
bool hide_secret_option(std::string_view program, int argc, char** argv, const SecretOption& secret,
                        bool warn = true);

// hide_secret_option for --redis-password.
inline void hide_redis_password(std::string_view program, int argc, char** argv) {
    hide_secret_option(program, argc, argv, redis_password_option);
}

// The secret in `path` for `option` (e.g. "--redis-password-file"): the
// file's first line, without the line end. Throws CLI::ValidationError
// naming the option and the file when it cannot be read or the line is
// empty ("has no <what> on its first line").
std::string read_secret_file(std::string_view option, const std::string& path,
                             std::string_view what);

// read_secret_file for --redis-password-file.
inline std::string read_password_file(const std::string& path) {
    return read_secret_file("--redis-password-file", path, "password");
}

}  // namespace bscd
