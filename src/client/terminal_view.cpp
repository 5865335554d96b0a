#include "client/terminal_view.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string_view>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/unix_ms.hpp"

namespace bscd::client {
namespace {

constexpr std::string_view clear_line = "\r\x1b[2K";
constexpr std::string_view hide_cursor = "\x1b[?25l";
constexpr std::string_view show_cursor = "\x1b[?25h";

int watched_fd = -1;

// Ctrl-C or SIGTERM while the cursor is hidden: give the terminal back.
extern "C" void restore_and_exit(int signal) {
    static constexpr char restore[] = "\x1b[?25h\r\n";
    (void)!::write(watched_fd, restore, sizeof(restore) - 1);
    std::_Exit(128 + signal);
}

bool locale_is_utf8() {
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(name);
        if (value != nullptr && *value != '\0') {
            const std::string_view text(value);
            return text.find("UTF-8") != std::string_view::npos ||
                   text.find("utf8") != std::string_view::npos ||
                   text.find("utf-8") != std::string_view::npos;
        }
    }
    return false;
}

std::size_t terminal_width(int fd) {
    winsize size{};
    if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    return 80;
}

// Cuts ASCII-and-UTF-8 text to `columns` characters (one column each).
std::string fit(const std::string& text, std::size_t columns) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && count++ == columns) {
            return text.substr(0, i);
        }
    }
    return text;
}

std::string clock_text(std::int64_t ms) {
    const std::int64_t seconds = std::max<std::int64_t>(ms, 0) / 1000;
    const auto two = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
    return (seconds >= 3600 ? std::to_string(seconds / 3600) + ":" : "") + two(seconds / 60 % 60) +
           ":" + two(seconds % 60);
}

}  // namespace

std::string format_duration(std::int64_t ms) {
    if (ms < 1000) {
        return std::to_string(ms) + " ms";
    }
    const std::int64_t seconds = ms / 1000;
    if (seconds < 60) {
        return std::to_string(seconds) + "." + std::to_string(ms % 1000 / 100) + " s";
    }
    return std::to_string(seconds / 60) + " min " + std::to_string(seconds % 60) + " s";
}

TerminalView::TerminalView(int fd) : fd_(fd), utf8_(locale_is_utf8()) {
    watched_fd = fd;
    (void)std::signal(SIGINT, restore_and_exit);
    (void)std::signal(SIGTERM, restore_and_exit);
    write(std::string(hide_cursor));
}

TerminalView::~TerminalView() {
    write(std::string(show_cursor));
    (void)std::signal(SIGINT, SIG_DFL);
    (void)std::signal(SIGTERM, SIG_DFL);
}

void TerminalView::add(const BuildTimeline::Stage& stage, const BuildProgress& progress) {
    const StatusCode& code = *stage.event.code;
    const bool bad = code.is_final() && !code.is_success();
    std::string mark = utf8_ ? (bad ? "\u2718" : "\u2714") : (bad ? "x" : "+");
    std::string line = "  " + mark + " " + std::to_string(code.value) + "  " +
                       (code.description.empty() ? code.name : code.description);
    if (stage.duration_ms) {
        line += "  (" + format_duration(*stage.duration_ms) + ")";
    }
    write(std::string(clear_line) + fit(line, terminal_width(fd_) - 1) + "\n");
    if (!progress.finished()) {
        redraw(progress);
    }
}

void TerminalView::redraw(const BuildProgress& progress) {
    write(std::string(clear_line) + progress_line(progress));
}

void TerminalView::finish(const std::string& text) {
    write(std::string(clear_line) + text + "\n" + std::string(show_cursor));
}

std::string TerminalView::progress_line(const BuildProgress& progress) const {
    const std::size_t width = terminal_width(fd_);
    const StatusCode* stage = progress.furthest_stage();
    std::string text = std::to_string(progress.percent()) + "%  stage " +
                       std::to_string(progress.stages_done()) + " of " +
                       std::to_string(progress.total_stages());
    if (stage != nullptr) {
        text += "  " + (stage->description.empty() ? stage->name : stage->description);
    }
    if (progress.started_ms()) {
        text += "  " + clock_text(unix_ms_now() - *progress.started_ms());
    }
    // The bar takes what the text leaves, between 10 and 30 cells.
    const std::size_t room = width > text.size() + 6 ? width - text.size() - 6 : 0;
    const std::size_t cells = std::min<std::size_t>(30, room);
    if (cells < 10) {
        return fit("  " + text, width - 1);
    }
    const auto filled = cells * static_cast<std::size_t>(progress.percent()) / 100;
    std::string bar = "[";
    for (std::size_t i = 0; i < cells; ++i) {
        bar += i < filled ? (utf8_ ? "\u2588" : "#") : (utf8_ ? "\u2591" : "-");
    }
    bar += "]";
    return fit("  " + bar + " " + text, width - 1);
}

void TerminalView::write(const std::string& text) const {
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n <= 0) {
            return;  // the terminal went away; nothing to show it to
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace bscd::client
