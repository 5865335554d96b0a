#pragma once
// bsc watch on a terminal: the finished stages scroll up with their
// durations, one progress line (bar, percent, stage n of N, current stage,
// elapsed, and the time left when the build's profile taught one) is redrawn
// in place below them, with a line of the stages still to come under it, and
// a last line tells how the build ended. Ctrl-C leaves the terminal as it
// was (cursor shown, line ended).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/build_event.hpp"

namespace bscd::client {

// What the progress shows besides the progress itself (all optional; the
// caller words it: client/build_outlook.hpp).
struct ProgressNote {
    // The build's clock now (Redis'), for the elapsed time; nullopt: this
    // machine's clock.
    std::optional<std::int64_t> now_ms;
    std::string outlook;  // "about 1 min 5 s left", "first build of this kind"
    std::string range;    // "(55 s to 1 min 10 s)": shown when it fits
    std::string pace;     // "slower than usual", "probably stalled"
    // The line below the progress: "21 SET_UP_TIMEZONE_CODE (usually 0.4 s)", ...
    std::vector<std::string> to_come;
};

class TerminalView {
public:
    explicit TerminalView(int fd);
    ~TerminalView();  // shows the cursor again
    TerminalView(const TerminalView&) = delete;
    TerminalView& operator=(const TerminalView&) = delete;

    // A stage arrived: print it above the progress lines, then redraw them.
    void add(const BuildTimeline::Stage& stage, const BuildProgress& progress,
             const ProgressNote& note = {});
    // Redraw the progress lines (the clock moves).
    void redraw(const BuildProgress& progress, const ProgressNote& note = {});
    // The build ended (or watching did): replace the progress lines with `text`.
    void finish(const std::string& text);

private:
    void write(const std::string& text) const;
    // Clears the progress lines drawn, leaving the cursor where they began.
    std::string erase();

    int fd_;
    bool utf8_;
    std::size_t drawn_lines_ = 0;  // progress lines on the screen: 0, 1 or 2
};

// The progress line for a terminal `width` columns wide (it uses at most
// width - 1): "  [####------] 21%  stage 3 of 14  time zone set up  00:12
// about 1 min 5 s left (55 s to 1 min 10 s); slower than usual". When it is
// too wide, the range goes first, then the stage's description (its line
// is just above), then the bar; then the end is cut.
std::string progress_line(const BuildProgress& progress, const ProgressNote& note,
                          std::int64_t now_ms, std::size_t width, bool utf8);

// "  to come: 21 SET_UP_TIMEZONE_CODE (usually 0.4 s), 1000 SUCCESS" in at
// most width - 1 columns: the items that fit, then "+N more". Empty for no
// items.
std::string to_come_line(const std::vector<std::string>& items, std::size_t width);

// "1 min 12 s", "3.4 s", "120 ms".
std::string format_duration(std::int64_t ms);

}  // namespace bscd::client
