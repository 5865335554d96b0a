#include "client/command_line.hpp"

#include <cmath>

#include "client/client_error.hpp"
#include "common/cli_options.hpp"

#ifndef BSCD_VERSION
#error "BSCD_VERSION must be defined (see src/client/CMakeLists.txt)"
#endif

namespace bscd::client {

namespace {
constexpr double max_timeout_seconds = 1e6;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
        hide_redis_password("bsc", argc, argv);
        return std::nullopt;
    } catch (const CLI::ParseError& error) {
        // Help and version are "errors" with status 0; CLI11's own codes for
        // real errors (105, 106, ...) become the usual 2.
        return app.exit(error) == 0 ? 0 : ClientError::usage;
    }
}

CLI::Option* add_timeout_option(CLI::App& app, double& seconds, const std::string& description) {
    const CLI::Validator positive_seconds(
        [](std::string& input) -> std::string {
            double value = 0;
            if (!CLI::detail::lexical_cast(input, value) ||
                !(value > 0 && value <= max_timeout_seconds)) {
                return "the timeout must be a number of seconds above 0 and at most 1000000, "
                       "not " +
                       input;
            }
            return {};
        },
        "SECONDS", "positive seconds");
    return app.add_option("--timeout", seconds, description)
        ->check(positive_seconds)
        ->capture_default_str();
}

std::chrono::milliseconds to_timeout(double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

std::string_view bsc_version() {
    return BSCD_VERSION;
}

}  // namespace bscd::client
