#include "core/line_framer.hpp"

#include <cstring>

namespace bscd {

namespace {

// Empties the partial line when it goes out of scope, even if on_frame throws.
struct ClearOnExit {
    std::string& text;
    ~ClearOnExit() { text.clear(); }
};

}  // namespace

void LineFramer::feed(std::string_view bytes, const std::function<void(const Frame&)>& on_frame) {
    while (!bytes.empty()) {
        const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
        if (nl == nullptr) {
            // No end of line in the rest of the chunk: keep it for later,
            // unless the line is already (or now becomes) too long.
            if (!overflowed_) {
                if (partial_.size() + bytes.size() > max_length_) {
                    overflowed_ = true;
                    partial_.clear();
                } else {
                    partial_.append(bytes);
                }
            }
            return;
        }
        const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data());
        const std::string_view line = bytes.substr(0, length);
        bytes.remove_prefix(length + 1);

        if (overflowed_ || partial_.size() + line.size() > max_length_) {
            overflowed_ = false;
            partial_.clear();
            on_frame(Frame{{}, true, true});
        } else if (partial_.empty()) {
            on_frame(Frame{line, true, false});  // the common case: no copy
        } else {
            const ClearOnExit clear{partial_};
            partial_.append(line);
            on_frame(Frame{partial_, true, false});
        }
    }
}

std::optional<Frame> LineFramer::finish() {
    if (overflowed_) {
        overflowed_ = false;
        partial_.clear();
        return Frame{{}, false, true};
    }
    if (partial_.empty()) {
        return std::nullopt;
    }
    finished_.swap(partial_);
    partial_.clear();
    return Frame{finished_, false, false};
}

}  // namespace bscd
