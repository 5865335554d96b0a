#include "server/socket_access.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "server/startup.hpp"

namespace bscd {
namespace {

constexpr mode_t max_mode = 0777;
constexpr mode_t owner_bits = 0700;

template <typename Id>
std::optional<Id> parse_id(const std::string& text) {
    Id id{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id == static_cast<Id>(-1)) {
        return std::nullopt;
    }
    return id;
}

}  // namespace

std::optional<mode_t> parse_socket_mode(std::string_view text) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (text.empty() || text.size() > 4 || ec != std::errc() || end != text.data() + text.size() ||
        value > max_mode) {
        return std::nullopt;
    }
    return static_cast<mode_t>(value);
}

std::optional<uid_t> resolve_user(const std::string& name) {
    if (auto id = parse_id<uid_t>(name)) {
        return id;
    }
    // Start-up is single-threaded: getpwnam's static buffer is fine.
    const passwd* entry = ::getpwnam(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    return entry != nullptr ? std::optional<uid_t>(entry->pw_uid) : std::nullopt;
}

std::optional<gid_t> resolve_group(const std::string& name) {
    if (auto id = parse_id<gid_t>(name)) {
        return id;
    }
    const struct group* entry = ::getgrnam(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    return entry != nullptr ? std::optional<gid_t>(entry->gr_gid) : std::nullopt;
}

mode_t bind_umask(const SocketAccess& access) {
    return static_cast<mode_t>(max_mode & ~(access.mode & owner_bits));
}

void apply_socket_access(const std::string& path, const SocketAccess& access) {
    // The group first: the group bits then open the file to that group only.
    if (access.group && ::lchown(path.c_str(), static_cast<uid_t>(-1), *access.group) != 0) {
        throw StartupError(fmt::format("cannot give socket {} the group {}: {}", path,
                                       *access.group, std::strerror(errno)));
    }
    if (::chmod(path.c_str(), access.mode) != 0) {
        throw StartupError(fmt::format("cannot give socket {} the mode {:04o}: {}", path,
                                       access.mode, std::strerror(errno)));
    }
}

}  // namespace bscd
