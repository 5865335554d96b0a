#pragma once
// Where a project's daemon puts its socket and pid file, so that bscd, bsc
// and the shell library (share/bscd/bsc.sh, which mirrors this) agree
// without being told.

#include <string>
#include <string_view>

namespace bscd {

// The environment variable every program reads when --runtime-dir is not
// given.
inline constexpr const char* runtime_dir_variable = "BSCD_RUNTIME_DIR";

// --runtime-dir's help, the same for bscd and bsc.
inline constexpr const char* runtime_dir_help =
    "directory of the default socket and pid file [default: $BSCD_RUNTIME_DIR; else /var/run "
    "for root, else $XDG_RUNTIME_DIR, else /tmp]";

// /var/run for root (Pieman's paths), else $XDG_RUNTIME_DIR, else /tmp.
std::string default_runtime_dir();

// The runtime directory: `option` (--runtime-dir) if not empty, else
// $BSCD_RUNTIME_DIR if not empty, else default_runtime_dir().
std::string resolve_runtime_dir(std::string_view option);

// "<dir>/bscd-<project>.sock" and "<dir>/bscd-<project>.pid"; with an empty
// project, Pieman's "<dir>/bscd.sock" and "<dir>/bscd.pid".
std::string socket_path(std::string_view runtime_dir, std::string_view project);
std::string pid_file_path(std::string_view runtime_dir, std::string_view project);

}  // namespace bscd
