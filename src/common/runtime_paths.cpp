#include "common/runtime_paths.hpp"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace bscd {

std::string default_runtime_dir() {
    if (geteuid() == 0) {
        return "/var/run";
    }
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg != nullptr && *xdg != '\0') {
        return xdg;
    }
    return "/tmp";
}

std::string resolve_runtime_dir(std::string_view option) {
    if (!option.empty()) {
        return std::string(option);
    }
    const char* from_env = std::getenv(runtime_dir_variable);
    if (from_env != nullptr && *from_env != '\0') {
        return from_env;
    }
    return default_runtime_dir();
}

namespace {
std::string daemon_file(std::string_view dir, std::string_view project, std::string_view ext) {
    std::string path(dir);
    path += project.empty() ? "/bscd" : "/bscd-";
    path += project;
    path += ext;
    return path;
}
}  // namespace

std::string socket_path(std::string_view runtime_dir, std::string_view project) {
    return daemon_file(runtime_dir, project, ".sock");
}

std::string pid_file_path(std::string_view runtime_dir, std::string_view project) {
    return daemon_file(runtime_dir, project, ".pid");
}

}  // namespace bscd
