#pragma once
// bscd_load's command line: `bscd_load SCENARIO --key value ... [-- PROGRAM ARGS...]`.
// Hand-parsed on purpose: the generator depends on nothing but hiredis.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Options {
public:
    // argv[0] is the scenario's name; `--key value` pairs follow, then
    // optionally `--` and a command line kept verbatim.
    Options(int argc, char** argv);

    [[nodiscard]] std::string text(const std::string& key) const;
    [[nodiscard]] std::string text(const std::string& key, const std::string& fallback) const;
    [[nodiscard]] long integer(const std::string& key, long fallback, long min, long max) const;
    [[nodiscard]] double real(const std::string& key, double fallback, double min,
                              double max) const;
    [[nodiscard]] std::vector<std::string> all(const std::string& key) const;
    [[nodiscard]] const std::vector<std::string>& command() const { return command_; }

    // Throws UsageError naming any key no accessor asked for.
    void reject_unknown() const;

private:
    std::multimap<std::string, std::string> values_;
    std::vector<std::string> command_;
    mutable std::map<std::string, bool> used_;
};

// Where Redis is. Only loopback is accepted: the benchmark must never load a
// server it did not start.
struct RedisTarget {
    std::string host = "127.0.0.1";
    int port = 6379;
};
RedisTarget redis_target(const Options& options);

}  // namespace bench
