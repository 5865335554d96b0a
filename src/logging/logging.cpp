#include "logging/logging.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace bscd {
namespace {

// Python logging's "%(levelname)-5.5s": upper case, padded or cut to 5.
class PiemanLevelFlag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
                spdlog::memory_buf_t& dest) override {
        static constexpr std::array<std::string_view, 7> names = {
            "TRACE", "DEBUG", "INFO ", "WARNI", "ERROR", "CRITI", "OFF  "};
        auto name = names.at(static_cast<std::size_t>(msg.level));
        dest.append(name.data(), name.data() + name.size());
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<PiemanLevelFlag>();
    }
};

// A log file that cannot be written (a full disk) must not stop the
// program, nor bury stderr in one complaint per line: one line now, then at
// most one every 10 s, counting the failures in between.
void report_log_failure(const std::string& message) {
    using clock = std::chrono::steady_clock;
    static std::mutex mutex;  // the gateway logs from several threads
    const std::lock_guard lock(mutex);
    static clock::time_point last_report{};
    static std::size_t unreported = 0;
    const auto now = clock::now();
    if (last_report != clock::time_point{} && now - last_report < std::chrono::seconds(10)) {
        ++unreported;
        return;
    }
    if (unreported > 0) {
        (void)std::fprintf(stderr, "%s: cannot write the log: %s (and %zu failures since)\n",
                           spdlog::default_logger_raw()->name().c_str(), message.c_str(),
                           unreported);
    } else {
        (void)std::fprintf(stderr, "%s: cannot write the log: %s\n",
                           spdlog::default_logger_raw()->name().c_str(), message.c_str());
    }
    last_report = now;
    unreported = 0;
}

std::unique_ptr<spdlog::formatter> pieman_formatter() {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PiemanLevelFlag>('*').set_pattern("%Y-%m-%d %H:%M:%S,%e %* %v");
    return formatter;
}

}  // namespace

void init_logging(const LogOptions& options) {
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
    if (!options.file.empty()) {
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
        } catch (const spdlog::spdlog_ex& e) {
            throw std::runtime_error("cannot open log file " + options.file + ": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("bscd", sinks.begin(), sinks.end());
    logger->set_formatter(pieman_formatter());
    logger->set_level(options.verbose ? spdlog::level::debug : spdlog::level::info);
    // Every line reaches the file when it is logged, not at the next
    // warning: a crash (or a kill) must not take the lines before it along.
    // (A line costs the file one write, as it costs stderr. spdlog's
    // flush_every would do it with a thread, and bscd forks to daemonize
    // after this: the thread would not exist in the daemon, and a fork while
    // it held a sink's lock would leave the daemon's logger locked for good.)
    logger->flush_on(spdlog::level::trace);
    logger->set_error_handler(report_log_failure);
    spdlog::set_default_logger(logger);
}

void detach_logging_from_stderr() {
    auto& sinks = spdlog::default_logger()->sinks();
    std::erase_if(sinks, [](const spdlog::sink_ptr& sink) {
        return dynamic_cast<spdlog::sinks::stderr_sink_mt*>(sink.get()) != nullptr;
    });
}

void flush_logs() {
    spdlog::default_logger()->flush();
}

}  // namespace bscd
