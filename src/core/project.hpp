#pragma once
// Project names and the names derived from them.

#include <string>
#include <string_view>

namespace bscd {

// Letters, digits, '-', '_', '.', 1 to 128 characters, no "..": safe in a
// file name, a Redis key and a URL path. Pieman's default is a UUID.
bool is_valid_project_name(std::string_view name);

// The rule above, for error messages.
inline constexpr std::string_view project_name_rule =
    "letters, digits, '-', '_', '.', at most 128 characters, no '..'";

// Pieman's live channel for a project: "bscd-<project>".
std::string channel_for_project(std::string_view project);

// The history stream that goes with a live channel: "<channel>:events".
std::string history_key(std::string_view channel);

}  // namespace bscd
