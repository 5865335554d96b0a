#pragma once
// Pieces every bsc command line shares: parsing with bsc's exit statuses,
// the --timeout option, the version.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace bscd::client {

// Parses argv (argv[0] is the program or subcommand name) into `app`.
// nullopt: go on and run the command. Otherwise the program is done and
// exits with the value: 0 after --help or --version, 2 after a usage error
// (CLI11's message is printed).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// --timeout SECONDS: a number above 0 (fractions allowed) and at most a
// million; `seconds` holds the default.
CLI::Option* add_timeout_option(CLI::App& app, double& seconds, const std::string& description);

// Seconds as given on the command line, rounded up to whole milliseconds.
std::chrono::milliseconds to_timeout(double seconds);

// The project version, e.g. "0.1.0".
std::string_view bsc_version();

}  // namespace bscd::client
