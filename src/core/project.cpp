#include "core/project.hpp"

#include <algorithm>

namespace bscd {

namespace {

constexpr std::size_t max_name_length = 128;

bool is_name_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

}  // namespace

bool is_valid_project_name(std::string_view name) {
    if (name.empty() || name.size() > max_name_length ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), is_name_character);
}

bool is_valid_profile_name(std::string_view name) {
    return is_valid_project_name(name);
}

std::string default_profile(std::string_view os, std::string_view device) {
    if (os.empty() || device.empty()) {
        return {};
    }
    std::string joined = std::string(os) + '.' + std::string(device);
    joined.resize(std::min(joined.size(), max_name_length));
    for (std::size_t i = 0; i < joined.size(); ++i) {
        // A '.' after a '.' would make the forbidden "..".
        if (!is_name_character(joined[i]) || (joined[i] == '.' && i > 0 && joined[i - 1] == '.')) {
            joined[i] = '_';
        }
    }
    return joined;
}

std::string channel_for_project(std::string_view project) {
    return "bscd-" + std::string(project);
}

std::string project_for_channel(std::string_view channel) {
    constexpr std::string_view prefix = "bscd-";
    return std::string(channel.starts_with(prefix) ? channel.substr(prefix.size()) : channel);
}

std::string history_key(std::string_view channel) {
    return std::string(channel) + ":events";
}

}  // namespace bscd
