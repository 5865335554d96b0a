#pragma once
// A private directory under /tmp, removed with everything in it when the
// object goes away. Paths stay short: Unix socket paths are limited to 107
// bytes.

#include <string>

namespace bscd::test {

class TempDir {
public:
    // Creates /tmp/bscd-test-XXXXXX; throws std::system_error on failure.
    TempDir();
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // The directory, without a trailing slash.
    const std::string& path() const { return path_; }
    // path() + "/" + name; creates nothing.
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    // Writes `content` to file(name), replacing it, and returns its path:
    // a password, a secret or a codes file for a program under test.
    std::string write_file(const std::string& name, const std::string& content) const;

private:
    void remove() noexcept;

    std::string path_;
};

// The whole content of the file at `path`; empty when it cannot be read (a
// log not written yet, a process that has gone).
std::string read_file(const std::string& path);

}  // namespace bscd::test
