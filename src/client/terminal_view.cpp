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
constexpr std::string_view line_up = "\x1b[1A";
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

// Columns of ASCII-and-UTF-8 text (one a character).
std::size_t columns(const std::string& text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
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

void TerminalView::add(const BuildTimeline::Stage& stage, const BuildProgress& progress,
                       const ProgressNote& note) {
    const StatusCode& code = *stage.event.code;
    const bool bad = code.is_final() && !code.is_success();
    std::string mark = utf8_ ? (bad ? "\u2718" : "\u2714") : (bad ? "x" : "+");
    std::string line = "  " + mark + " " + std::to_string(code.value) + "  " +
                       (code.description.empty() ? code.name : code.description);
    if (stage.duration_ms) {
        line += "  (" + format_duration(*stage.duration_ms) + ")";
    }
    write(erase() + fit(line, terminal_width(fd_) - 1) + "\n");
    if (!progress.finished()) {
        redraw(progress, note);
    }
}

void TerminalView::redraw(const BuildProgress& progress, const ProgressNote& note) {
    const std::size_t width = terminal_width(fd_);
    std::string text =
        erase() + progress_line(progress, note, note.now_ms.value_or(unix_ms_now()), width, utf8_);
    drawn_lines_ = 1;
    if (const std::string below = to_come_line(note.to_come, width); !below.empty()) {
        text += "\n" + below;
        drawn_lines_ = 2;
    }
    write(text);  // one write: no half-drawn lines between two
}

void TerminalView::finish(const std::string& text) {
    write(erase() + text + "\n" + std::string(show_cursor));
}

std::string TerminalView::erase() {
    std::string text(clear_line);
    for (std::size_t line = 1; line < drawn_lines_; ++line) {
        text += std::string(line_up) + std::string(clear_line);
    }
    drawn_lines_ = 0;
    return text;
}

std::string progress_line(const BuildProgress& progress, const ProgressNote& note,
                          std::int64_t now_ms, std::size_t width, bool utf8) {
    const StatusCode* stage = progress.furthest_stage();
    const std::string head = std::to_string(progress.percent()) + "%  stage " +
                             std::to_string(progress.stages_done()) + " of " +
                             std::to_string(progress.total_stages());
    const std::string description =
        stage == nullptr ? ""
                         : "  " + (stage->description.empty() ? stage->name : stage->description);
    const std::string clock =
        progress.started_ms() ? "  " + clock_text(now_ms - *progress.started_ms()) : "";
    const std::string outlook = note.outlook.empty() ? "" : "  " + note.outlook;
    const std::string range = note.outlook.empty() || note.range.empty() ? "" : " " + note.range;
    const std::string pace =
        note.pace.empty() ? "" : (note.outlook.empty() ? "  " : "; ") + note.pace;
    // What gives way, first to last: the range, the description, the bar.
    const std::string texts[] = {head + description + clock + outlook + range + pace,
                                 head + description + clock + outlook + pace,
                                 head + clock + outlook + pace};
    const std::size_t usable = width > 0 ? width - 1 : 0;
    for (const std::string& text : texts) {
        // "  [" bar "] " text: the bar takes what the text leaves, 10 to 30 cells.
        const std::size_t used = columns(text) + 5;
        const std::size_t cells = usable > used ? std::min<std::size_t>(30, usable - used) : 0;
        if (cells < 10) {
            continue;
        }
        const auto filled = cells * static_cast<std::size_t>(progress.percent()) / 100;
        std::string line = "  [";
        for (std::size_t i = 0; i < cells; ++i) {
            line += i < filled ? (utf8 ? "\u2588" : "#") : (utf8 ? "\u2591" : "-");
        }
        line += "] ";
        line += text;
        return line;
    }
    for (const std::string& text : texts) {
        if (columns(text) + 2 <= usable) {
            return "  " + text;
        }
    }
    return fit("  " + texts[2], usable);
}

std::string to_come_line(const std::vector<std::string>& items, std::size_t width) {
    if (items.empty()) {
        return {};
    }
    const std::size_t usable = width > 0 ? width - 1 : 0;
    const auto more = [&](std::size_t shown) {
        return shown == items.size() ? std::string()
                                     : std::string(shown == 0 ? "" : ", ") + "+" +
                                           std::to_string(items.size() - shown) + " more";
    };
    std::string line = "  to come: ";
    std::size_t shown = 0;
    for (const std::string& item : items) {
        std::string longer = line;
        longer += shown == 0 ? "" : ", ";
        longer += item;
        if (columns(longer + more(shown + 1)) > usable) {
            break;
        }
        line = std::move(longer);
        ++shown;
    }
    return fit(line + more(shown), usable);
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
