#pragma once
// Synchronise tests on events, never on bare sleeps: poll a predicate until it
// holds or a deadline passes.

#include <chrono>
#include <functional>

namespace bscd::test {

// Calls pred() about every 2 ms until it returns true or `timeout` has
// passed; returns the result of the last call (made at or after the deadline
// when it never held before).
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace bscd::test
