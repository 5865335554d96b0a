#pragma once
// The daemon's pid file. A running bscd holds an flock on it, so "is another
// daemon using this pid file?" has an exact answer, and a file left by a
// crashed daemon (no lock) is simply taken over.

#include <string>

namespace bscd {

class PidFile {
public:
    // Throws StartupError when a running process holds `path`, or when its
    // directory is not writable.
    static void check_available(const std::string& path);

    // Creates (or takes over) the file, locks it and writes our pid.
    // Throws StartupError as check_available() does.
    explicit PidFile(std::string path);
    ~PidFile();  // removes the file
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace bscd
