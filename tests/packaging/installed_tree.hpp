#pragma once
// This build, installed with `cmake --install` into a private prefix, and
// the helpers the packaging tests share: files, and daemons that are not the
// test's children (bscd --daemonize).

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

// Runs `cmake --install <this build> <args...>` (DESTDIR as given: empty
// means none, whatever the test's environment holds).
RunResult cmake_install(const std::vector<std::string>& args, const std::string& destdir = {});

class InstalledTree {
public:
    // Installs the default components, then each of `components`, under a
    // new temporary prefix. Fails the test (and throws) when an install fails.
    explicit InstalledTree(const std::vector<std::string>& components = {});

    const std::string& prefix() const { return dir_.path(); }
    // <prefix>/bin/<name>
    std::string bin(const std::string& name) const;
    // <prefix>/share/bscd/<name>
    std::string data(const std::string& name) const;
    // <prefix>/lib/systemd/system/<name>
    std::string unit(const std::string& name) const;

private:
    TempDir dir_;
};

// The whole file; throws std::runtime_error when it cannot be read.
std::string read_existing_file(const std::string& path);
// A regular file its owner may execute.
bool is_executable_file(const std::string& path);
// Every regular file and symbolic link under `root`, relative to it, sorted.
std::vector<std::string> files_under(const std::string& root);
// The first line of `text` holding `needle`, without the newline.
std::optional<std::string> line_with(const std::string& text, const std::string& needle);

// Running, and not a zombie: a daemon is reparented, and whoever reaps it
// may not do so at once.
bool alive(pid_t pid);

// bscd daemons started by a test (--daemonize: not its children). Stops
// every one still running when it goes away (SIGTERM, SIGKILL after 5 s),
// found through the pid it was told or through a pid file, and only when
// that process runs the program `executable`.
class Daemons {
public:
    explicit Daemons(std::string executable) : executable_(std::move(executable)) {}
    ~Daemons();
    Daemons(const Daemons&) = delete;
    Daemons& operator=(const Daemons&) = delete;

    // Looks at `pid_file` when stopping (it may not exist yet).
    void watch(const std::string& pid_file) { pid_files_.push_back(pid_file); }
    // The pid in `pid_file`, or -1; remembered, for stopping.
    pid_t read_pid(const std::string& pid_file);

private:
    std::string executable_;
    std::vector<std::string> pid_files_;
    std::vector<pid_t> pids_;
};

}  // namespace bscd::test
