#pragma once
// Which bscd socket a command talks to: -a SOCKET if given, else the socket of
// --project P, else of $PROJECT_NAME, else Pieman's bscd.sock, all in the
// runtime directory bscd uses: --runtime-dir, else $BSCD_RUNTIME_DIR, else the
// default (src/common/runtime_paths.hpp).

#include <string>

#include <CLI/CLI.hpp>

namespace bscd::client {

struct SocketOptions {
    std::string socket;       // -a/--unix-socket-name
    std::string project;      // --project
    std::string runtime_dir;  // --runtime-dir
};

// Adds -a/--unix-socket-name, and --project and --runtime-dir, which name the
// socket -a would give.
void add_socket_options(CLI::App& app, SocketOptions& options);

// The socket path the options designate. Throws ClientError (usage) when
// the project name, from --project or PROJECT_NAME, is not a valid one.
std::string resolve_socket(const SocketOptions& options);

}  // namespace bscd::client
