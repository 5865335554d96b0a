#pragma once
// Where a project's daemon puts its socket and pid file, so that bscd and
// bsc agree without being told.

#include <string>
#include <string_view>

namespace bscd {

// /var/run for root (Pieman's paths), else $XDG_RUNTIME_DIR, else /tmp.
std::string default_runtime_dir();

// "<dir>/bscd-<project>.sock" and "<dir>/bscd-<project>.pid"; with an empty
// project, Pieman's "<dir>/bscd.sock" and "<dir>/bscd.pid".
std::string socket_path(std::string_view runtime_dir, std::string_view project);
std::string pid_file_path(std::string_view runtime_dir, std::string_view project);

}  // namespace bscd
