#include "client/socket_location.hpp"

#include <cstdlib>

#include "client/client_error.hpp"
#include "common/runtime_paths.hpp"
#include "core/project.hpp"
#include "core/request.hpp"

namespace bscd::client {

void add_socket_options(CLI::App& app, SocketOptions& options) {
    CLI::Option* socket = app.add_option(
        "-a,--unix-socket-name", options.socket,
        "bscd's socket (default: the socket of the project, else Pieman's bscd.sock, in the "
        "runtime directory)");
    CLI::Option* project = app.add_option(
        "--project", options.project,
        "Talk to this project's bscd: <runtime dir>/bscd-PROJECT.sock (default: $PROJECT_NAME)");
    CLI::Option* runtime_dir =
        app.add_option("--runtime-dir", options.runtime_dir, runtime_dir_help);
    socket->excludes(project);
    socket->excludes(runtime_dir);
}

std::string resolve_socket(const SocketOptions& options) {
    if (!options.socket.empty()) {
        return options.socket;
    }
    std::string project = options.project;
    const char* source = "--project";
    if (project.empty()) {
        const char* from_env = std::getenv("PROJECT_NAME");
        project = from_env != nullptr ? from_env : "";
        source = "PROJECT_NAME";
    }
    if (!project.empty() && !is_valid_project_name(project)) {
        throw ClientError(std::string(source) + ": not a valid project name: " +
                              printable(project, 60) + " (" + std::string(project_name_rule) + ")",
                          ClientError::usage);
    }
    return socket_path(resolve_runtime_dir(options.runtime_dir), project);
}

}  // namespace bscd::client
