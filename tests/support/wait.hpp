#pragma once
// Synchronise tests on events, never on bare sleeps: poll a predicate until it
// holds or a deadline passes.

#include <chrono>
#include <functional>
#include <string>

namespace bscd::test {

// Calls pred() about every 2 ms until it returns true or `timeout` has
// passed; returns the result of the last call (made at or after the deadline
// when it never held before).
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Calls missing() about every 20 ms until it returns an empty string (ready)
// or `timeout` passes; then throws std::runtime_error naming `what` and the
// last thing missing. An exception from missing() counts as not ready.
void await(const std::string& what, std::chrono::milliseconds timeout,
           const std::function<std::string()>& missing);

}  // namespace bscd::test
