#pragma once
// Log lines in Pieman's shape, "2026-11-23 22:54:14,570 INFO  message", to
// stderr and optionally to a file (-l/--log-file-prefix), through spdlog's
// default logger: call spdlog::info(...) and friends anywhere.

#include <string>

namespace bscd {

struct LogOptions {
    bool verbose = false;  // -v: debug lines too
    std::string file;      // append here as well, when set
};

// Installs the default logger. Every line is flushed as it is written, to
// the file too: none waits in a buffer for a crash to lose it. Throws
// std::runtime_error (naming the path) when the log file cannot be opened.
void init_logging(const LogOptions& options);

// Stops writing to stderr (a daemon's stderr is /dev/null once detached);
// the log file, if any, keeps receiving lines.
void detach_logging_from_stderr();

// Writes buffered log lines out (none are, since every line is flushed;
// kept for the programs' exits).
void flush_logs();

}  // namespace bscd
