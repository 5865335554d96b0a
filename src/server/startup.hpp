#pragma once
// Start-up failures: main() logs them and exits 1 (Pieman's status).

#include <stdexcept>
#include <string>

namespace bscd {

class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws StartupError (Pieman's wording) unless the directory that would
// hold `path` exists and is writable.
void require_writable_parent(const std::string& path);

}  // namespace bscd
