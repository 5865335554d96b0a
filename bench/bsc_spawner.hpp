#pragma once
// Runs `bsc -a SOCKET CODE` for gateway_fanout from a small helper process,
// forked before the viewers connect, so that each bsc starts as it would
// from a builder's shell: from a process with a handful of descriptors.
// Spawned from gateway_fanout itself, each bsc would first copy, then close
// on exec, its thousands of sockets (about 0.3 ms more at 5,000 viewers).

#include <optional>
#include <string>
#include <sys/types.h>

#include "stats.hpp"

namespace bench {

class BscSpawner {
public:
    // Forks the helper; throws std::runtime_error when it cannot.
    BscSpawner(std::string bsc, std::string socket);
    // Closes the pipes (the helper exits) and waits for the helper.
    ~BscSpawner();
    BscSpawner(const BscSpawner&) = delete;
    BscSpawner& operator=(const BscSpawner&) = delete;

    // Asks the helper to start bsc with `code`; returns at once.
    bool start(const std::string& code);
    // Waits for that bsc (killed first when `kill`); when it exited 0, the
    // instant it had exited (the helper's waitpid returned; steady_clock is
    // CLOCK_MONOTONIC, the same in both processes).
    std::optional<Clock::time_point> finish(bool kill);

private:
    int requests_ = -1;  // to the helper: "CODE\n"
    int replies_ = -1;   // from it: the pid of each bsc, then its wait status and exit time
    pid_t helper_ = -1;
};

}  // namespace bench
