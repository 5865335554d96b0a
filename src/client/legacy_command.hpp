#pragma once
// `bsc [-a SOCKET] [-H HOST] [-P PORT] REQUEST`: the command line of Pieman's
// bsc.py, so that Pieman's scripts run unchanged. Also bsc's top-level
// --help and --version.

#include <string>

namespace bscd::client {

// argv[0] is the program name. `subcommands_help` is appended to --help.
// Returns the exit status; throws ClientError when the request failed.
int run_legacy_command(int argc, char** argv, const std::string& subcommands_help);

}  // namespace bscd::client
