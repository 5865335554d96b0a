#pragma once
// One build status code as the catalog defines it.

#include <string>

namespace bscd {

struct StatusCode {
    int value = 0;            // Pieman's decimal code, e.g. 82; published as is
    std::string name;         // e.g. SYNCED_CODE
    std::string description;  // e.g. "chroot synced into the root partition"

    // Codes of 1000 and above end a build (Pieman: 1000 success, 1001 failure).
    [[nodiscard]] bool is_final() const { return value >= 1000; }
    [[nodiscard]] bool is_success() const { return value == 1000; }
};

}  // namespace bscd
