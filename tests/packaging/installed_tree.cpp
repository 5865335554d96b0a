#include "installed_tree.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

RunResult cmake_install(const std::vector<std::string>& args, const std::string& destdir) {
    std::vector<std::string> argv{BSCD_CMAKE_COMMAND, "--install", BSCD_BUILD_DIR};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {{"DESTDIR", destdir}}, 60s);
}

InstalledTree::InstalledTree(const std::vector<std::string>& components) {
    std::vector<std::vector<std::string>> installs{{"--prefix", prefix()}};
    for (const std::string& component : components) {
        installs.push_back({"--prefix", prefix(), "--component", component});
    }
    for (const auto& args : installs) {
        const RunResult result = cmake_install(args);
        if (result.status != 0) {
            ADD_FAILURE() << "cmake --install failed (" << result.status << "):\n" << result.output;
            throw std::runtime_error("cmake --install failed");
        }
    }
}

std::string InstalledTree::bin(const std::string& name) const {
    return prefix() + "/" BSCD_INSTALL_BINDIR "/" + name;
}

std::string InstalledTree::data(const std::string& name) const {
    return prefix() + "/" BSCD_INSTALL_DATADIR "/bscd/" + name;
}

std::string InstalledTree::unit(const std::string& name) const {
    return prefix() + "/" BSCD_INSTALL_UNITDIR "/" + name;
}

std::string read_existing_file(const std::string& path) {
    if (!std::ifstream(path)) {
        throw std::runtime_error("cannot read " + path);
    }
    return read_file(path);
}

bool is_executable_file(const std::string& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    return !error && fs::is_regular_file(status) &&
           (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
}

std::vector<std::string> files_under(const std::string& root) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_regular_file() || entry.is_symlink()) {
            files.push_back(fs::relative(entry.path(), root).string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<std::string> line_with(const std::string& text, const std::string& needle) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(needle) != std::string::npos) {
            return line;
        }
    }
    return std::nullopt;
}

bool alive(pid_t pid) {
    // /proc/PID/stat: "PID (COMM) STATE ...", COMM may hold spaces and ')'.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (pid <= 0 || !std::getline(in, stat)) {
        return false;
    }
    const auto end_of_comm = stat.rfind(')');
    return end_of_comm != std::string::npos && end_of_comm + 2 < stat.size() &&
           stat[end_of_comm + 2] != 'Z' && stat[end_of_comm + 2] != 'X';
}

pid_t Daemons::read_pid(const std::string& pid_file) {
    pid_t pid = -1;
    std::ifstream in(pid_file);
    if (in >> pid && pid > 0) {
        pids_.push_back(pid);
        return pid;
    }
    return -1;
}

Daemons::~Daemons() {
    for (const std::string& pid_file : pid_files_) {
        (void)read_pid(pid_file);
    }
    std::error_code error;
    const fs::path program = fs::weakly_canonical(executable_, error);
    for (const pid_t pid : pids_) {
        // Only our daemon: the pid may have been reused since.
        if (!alive(pid) ||
            fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", error) != program) {
            continue;
        }
        (void)::kill(pid, SIGTERM);
        if (!wait_until([pid] { return !alive(pid); }, 5s)) {
            (void)::kill(pid, SIGKILL);
        }
    }
}

}  // namespace bscd::test
