#include "core/project.hpp"

#include <algorithm>

namespace bscd {

bool is_valid_project_name(std::string_view name) {
    if (name.empty() || name.size() > 128 || name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

std::string channel_for_project(std::string_view project) {
    return "bscd-" + std::string(project);
}

std::string history_key(std::string_view channel) {
    return std::string(channel) + ":events";
}

}  // namespace bscd
