#pragma once
// The one error type of bsc's commands: what() is the line printed after
// "bsc: " on stderr, exit_code() the status bsc exits with.

#include <stdexcept>
#include <string>

namespace bscd::client {

class ClientError : public std::runtime_error {
public:
    // Exit status 1: bscd (or Redis) did not accept, or could not be asked.
    static constexpr int failure = 1;
    // Exit status 2: the command line is wrong (as CLI11 and argparse).
    static constexpr int usage = 2;

    explicit ClientError(const std::string& message, int exit_code = failure)
        : std::runtime_error(message), exit_code_(exit_code) {}

    [[nodiscard]] int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

}  // namespace bscd::client
