#pragma once
// The real-browser tests: a script of tests/browser, run by node, drives
// Debian's Chromium through playwright-core (which never downloads one).

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace bscd::test {

// tests/browser/<name> in the source tree.
std::filesystem::path browser_script(const std::string& name);

// Whether the script, playwright-core (npm ci in tests/browser) and
// /usr/bin/chromium are there; a failure says how to get what is missing.
::testing::AssertionResult browser_ready(const std::filesystem::path& script);

// <build dir>/test-artifacts/<name> (screenshots kept after the run), its
// directory made and any file of that name from an earlier run removed.
std::filesystem::path artifact_path(const std::string& name);

}  // namespace bscd::test
