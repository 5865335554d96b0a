#include "server/startup.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

namespace bscd {

void require_writable_parent(const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    const auto dir = parent.empty() ? std::filesystem::path(".") : parent;
    if (access(dir.c_str(), W_OK) != 0) {
        throw StartupError(fmt::format(
            "{} is not writable for the process ({}). Make sure that the directory exists and "
            "the process has enough permissions to create files there.",
            dir.string(), std::strerror(errno)));
    }
}

}  // namespace bscd
