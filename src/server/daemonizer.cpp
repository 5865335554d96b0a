#include "server/daemonizer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "server/startup.hpp"

namespace bscd {

Daemonizer Daemonizer::detach() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throw StartupError(fmt::format("cannot daemonize: pipe: {}", std::strerror(errno)));
    }
    (void)std::fflush(nullptr);
    const pid_t child = fork();
    if (child < 0) {
        throw StartupError(fmt::format("cannot daemonize: fork: {}", std::strerror(errno)));
    }
    if (child > 0) {  // the starting command
        ::close(fds[1]);
        char byte = 0;
        ssize_t n = 0;
        do {
            n = ::read(fds[0], &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            std::_Exit(0);
        }
        int status = 0;  // the child exited before it was ready
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        std::_Exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    }
    ::close(fds[0]);
    setsid();
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        ::close(null_fd);
    }
    return Daemonizer(fds[1]);
}

void Daemonizer::close_inherited_descriptors() {
    if (::close_range(3, ~0U, 0) == 0) {
        return;
    }
    // Kernels before 5.9: the descriptors the process has, from /proc.
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return;
    }
    std::vector<int> open;
    while (const dirent* entry = ::readdir(dir)) {
        const int fd = std::atoi(entry->d_name);  // "." and ".." give 0
        if (fd > STDERR_FILENO && fd != ::dirfd(dir)) {
            open.push_back(fd);
        }
    }
    ::closedir(dir);
    for (const int fd : open) {
        ::close(fd);
    }
}

void Daemonizer::ready() {
    if (ready_fd_ < 0) {
        return;
    }
    (void)std::fflush(nullptr);
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        ::close(null_fd);
    }
    const char byte = 1;
    (void)!::write(ready_fd_, &byte, 1);
    ::close(ready_fd_);
    ready_fd_ = -1;
}

}  // namespace bscd
