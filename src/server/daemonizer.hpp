#pragma once
// -d/--daemonize: detach from the terminal, but let the starting command
// return only once the daemon serves (socket listening, pid file written),
// with its exit status telling whether it started. Pieman's start script
// then finds the pid file at once instead of polling for it.

namespace bscd {

class Daemonizer {
public:
    // Forks. The parent never returns: it waits for the child's ready() and
    // exits 0, or exits with the child's status if the child died first.
    // The child returns in a new session, with stdin on /dev/null; its
    // stdout and stderr stay open until ready(), so start-up errors still
    // reach the terminal.
    static Daemonizer detach();

    // Closes every descriptor above stderr that the starting command passed
    // on (a pipe such as `build.sh | tee log` would otherwise stay open as
    // long as the daemon runs), as Pieman's python-daemon does. Called first
    // in main(), before anything of bscd's own is open.
    static void close_inherited_descriptors();

    // Not daemonizing: ready() does nothing.
    Daemonizer() = default;

    // Child: serving now. Releases the parent and moves stdout and stderr
    // to /dev/null.
    void ready();

private:
    explicit Daemonizer(int ready_fd) : ready_fd_(ready_fd) {}
    int ready_fd_ = -1;
};

}  // namespace bscd
