#include "core/build_keys.hpp"

#include "core/project.hpp"

namespace bscd {

std::string build_key(std::string_view channel) {
    return "{" + history_key(channel) + "}:build";
}

std::string profile_key(std::string_view profile) {
    return "bscd-profile:" + std::string(profile);
}

}  // namespace bscd
