#include "server/pid_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "server/startup.hpp"

namespace bscd {
namespace {

std::string holder_pid(int fd) {
    char buffer[32] = {};
    const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
    std::string pid(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
    }
    return pid.empty() ? "unknown" : pid;
}

[[noreturn]] void refuse_held(const std::string& path, int fd) {
    const std::string pid = holder_pid(fd);
    ::close(fd);
    throw StartupError(fmt::format("pid file {} is held by running process {}", path, pid));
}

}  // namespace

void PidFile::check_available(const std::string& path) {
    require_writable_parent(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;  // no file: available
    }
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        refuse_held(path, fd);
    }
    ::close(fd);
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
    require_writable_parent(path_);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw StartupError(
            fmt::format("cannot create pid file {}: {}", path_, std::strerror(errno)));
    }
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int fd = fd_;
        fd_ = -1;
        refuse_held(path_, fd);
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(path_.c_str());
        ::close(fd_);
        throw StartupError(fmt::format("cannot write pid file {}: {}", path_, reason));
    }
}

PidFile::~PidFile() {
    if (fd_ >= 0) {
        ::unlink(path_.c_str());  // before unlocking: no window where another daemon's file goes
        ::close(fd_);
    }
}

}  // namespace bscd
