#include "bsc_spawner.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace bench {

namespace {

bool read_all(int fd, void* data, std::size_t size) {
    auto* at = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t got = ::read(fd, at, size);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        at += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
    const auto* at = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t put = ::write(fd, at, size);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put <= 0) {
            return false;
        }
        at += put;
        size -= static_cast<std::size_t>(put);
    }
    return true;
}

// What the helper answers once a bsc has exited.
struct Exit {
    int status = -1;
    Clock::rep at = 0;  // Clock::time_point::time_since_epoch().count()
};

// The helper: one line per bsc to run; answers its pid (0: could not start),
// then, once it has exited, an Exit.
[[noreturn]] void serve(int requests, int replies, std::string bsc, std::string socket) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string code;
    char c = 0;
    while (read_all(requests, &c, 1)) {
        if (c != '\n') {
            code.push_back(c);
            continue;
        }
        std::vector<char*> argv = {bsc.data(), const_cast<char*>("-a"), socket.data(), code.data(),
                                   nullptr};
        pid_t pid = 0;
        if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
            pid = 0;
        }
        if (!write_all(replies, &pid, sizeof pid)) {
            break;
        }
        Exit exit;
        while (pid > 0 && ::waitpid(pid, &exit.status, 0) < 0 && errno == EINTR) {
        }
        exit.at = Clock::now().time_since_epoch().count();
        if (!write_all(replies, &exit, sizeof exit)) {
            break;
        }
        code.clear();
    }
    ::_exit(0);  // not exit(): the parent's atexit handlers and buffers are not ours
}

}  // namespace

BscSpawner::BscSpawner(std::string bsc, std::string socket) {
    int to_helper[2];
    int from_helper[2];
    if (::pipe2(to_helper, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    if (::pipe2(from_helper, O_CLOEXEC) != 0) {
        ::close(to_helper[0]);
        ::close(to_helper[1]);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    helper_ = ::fork();
    if (helper_ == 0) {
        ::close(to_helper[1]);
        ::close(from_helper[0]);
        serve(to_helper[0], from_helper[1], std::move(bsc), std::move(socket));
    }
    ::close(to_helper[0]);
    ::close(from_helper[1]);
    requests_ = to_helper[1];
    replies_ = from_helper[0];
    if (helper_ < 0) {
        const int error = errno;
        ::close(requests_);
        ::close(replies_);
        throw std::runtime_error(std::string("fork: ") + std::strerror(error));
    }
}

BscSpawner::~BscSpawner() {
    ::close(requests_);
    ::close(replies_);
    int status = 0;
    while (::waitpid(helper_, &status, 0) < 0 && errno == EINTR) {
    }
}

bool BscSpawner::start(const std::string& code) {
    const std::string line = code + "\n";
    return write_all(requests_, line.data(), line.size());
}

std::optional<Clock::time_point> BscSpawner::finish(bool kill) {
    pid_t pid = 0;
    Exit exit;
    if (!read_all(replies_, &pid, sizeof pid)) {
        return std::nullopt;
    }
    if (kill && pid > 0) {
        (void)::kill(pid, SIGKILL);
    }
    if (!read_all(replies_, &exit, sizeof exit) || pid <= 0 || kill || !WIFEXITED(exit.status) ||
        WEXITSTATUS(exit.status) != 0) {
        return std::nullopt;
    }
    return Clock::time_point(Clock::duration(exit.at));
}

}  // namespace bench
