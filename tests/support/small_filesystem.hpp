#pragma once
// A tmpfs of a few KiB mounted on a private directory: a disk that really
// fills up (ENOSPC), for the tests of a full disk under the log or the spool.
// Mounting needs root: tests check available() and skip otherwise.

#include <cstddef>
#include <string>

#include "support/temp_dir.hpp"

namespace bscd::test {

class SmallFilesystem {
public:
    static bool available();

    // Mounts a tmpfs of `bytes` (rounded up to pages) on a new directory.
    // Throws std::runtime_error when it cannot.
    explicit SmallFilesystem(std::size_t bytes);
    // Unmounts (lazily, should a process still hold a file there).
    ~SmallFilesystem();
    SmallFilesystem(const SmallFilesystem&) = delete;
    SmallFilesystem& operator=(const SmallFilesystem&) = delete;

    const std::string& path() const { return dir_.path(); }
    std::string file(const std::string& name) const { return dir_.file(name); }

    // Takes every free byte with a file of zeros; free_up() removes it.
    void fill();
    void free_up();

private:
    TempDir dir_;
};

}  // namespace bscd::test
