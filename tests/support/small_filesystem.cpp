#include "support/small_filesystem.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mount.h>
#include <unistd.h>

namespace bscd::test {

bool SmallFilesystem::available() {
    return ::geteuid() == 0;
}

SmallFilesystem::SmallFilesystem(std::size_t bytes) {
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) !=
        0) {
        throw std::runtime_error("cannot mount a tmpfs on " + dir_.path() + ": " +
                                 std::strerror(errno));
    }
}

SmallFilesystem::~SmallFilesystem() {
    (void)::umount2(dir_.path().c_str(), MNT_DETACH);
}

void SmallFilesystem::fill() {
    const int fd = ::open(file("filler").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + file("filler") + ": " + std::strerror(errno));
    }
    const std::array<char, 512> zeros{};
    while (::write(fd, zeros.data(), zeros.size()) > 0) {
    }
    const int error = errno;
    ::close(fd);
    if (error != ENOSPC) {
        throw std::runtime_error("filling " + path() + " stopped on " + std::strerror(error));
    }
}

void SmallFilesystem::free_up() {
    ::unlink(file("filler").c_str());
}

}  // namespace bscd::test
