#pragma once
// bsc watch on a terminal: the finished stages scroll up with their
// durations, one progress line (bar, percent, stage n of N, current stage,
// elapsed) is redrawn in place below them, and a last line tells how the
// build ended. Ctrl-C leaves the terminal as it was (cursor shown, line ended).

#include <cstdint>
#include <string>

#include "core/build_event.hpp"

namespace bscd::client {

class TerminalView {
public:
    explicit TerminalView(int fd);
    ~TerminalView();  // shows the cursor again
    TerminalView(const TerminalView&) = delete;
    TerminalView& operator=(const TerminalView&) = delete;

    // A stage arrived: print it above the progress line, then redraw.
    void add(const BuildTimeline::Stage& stage, const BuildProgress& progress);
    // Redraw the progress line (the clock moves).
    void redraw(const BuildProgress& progress);
    // The build ended (or watching did): replace the progress line with `text`.
    void finish(const std::string& text);

private:
    void write(const std::string& text) const;
    [[nodiscard]] std::string progress_line(const BuildProgress& progress) const;

    int fd_;
    bool utf8_;
};

// "1 min 12 s", "3.4 s", "120 ms".
std::string format_duration(std::int64_t ms);

}  // namespace bscd::client
