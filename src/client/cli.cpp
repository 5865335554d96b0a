#include "client/cli.hpp"

#include <array>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "client/build_commands.hpp"
#include "client/check_redis_command.hpp"
#include "client/client_error.hpp"
#include "client/legacy_command.hpp"
#include "client/send_command.hpp"

namespace bscd::client {

namespace {

struct Subcommand {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);  // argv[0] is the subcommand's name
};

// Each subcommand builds its own parser, only when it runs: one bsc process
// per build stage pays for no more than it uses.
constexpr std::array subcommands{
    Subcommand{"send", "send requests over one connection, each must be answered OK",
               run_send_command},
    Subcommand{"check-redis", "exit 0 when Redis answers PING (Pieman's check_redis.py)",
               run_check_redis_command},
    Subcommand{"watch", "show a build's progress, from its history on, until it ends",
               run_watch_command},
    Subcommand{"status", "where a build stands", run_status_command},
    Subcommand{"history", "every event of a build with its stage duration", run_history_command},
};

std::string subcommands_help() {
    std::string help = "Subcommands:\n";
    for (const Subcommand& subcommand : subcommands) {
        std::string line = "  " + std::string(subcommand.name);
        line.resize(std::max<std::size_t>(line.size() + 2, 16), ' ');
        help += line + std::string(subcommand.summary) + "\n";
    }
    help += "Run 'bsc SUBCOMMAND --help' for its options.";
    return help;
}

void report(std::string_view message) {
    (void)std::fprintf(stderr, "bsc: %.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace

int run_bsc(int argc, char** argv) {
    try {
        if (argc > 1) {
            const std::string_view first = argv[1];
            for (const Subcommand& subcommand : subcommands) {
                if (first == subcommand.name) {
                    return subcommand.run(argc - 1, argv + 1);
                }
            }
        }
        return run_legacy_command(argc, argv, subcommands_help());
    } catch (const ClientError& error) {
        report(error.what());
        return error.exit_code();
    } catch (const std::exception& error) {
        report(error.what());
        return ClientError::failure;
    }
}

}  // namespace bscd::client
