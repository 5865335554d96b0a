// libFuzzer target: the producer request path as bscd runs it
// (server/producer_session.cpp): the bytes of one connection through
// LineFramer in chunks, then finish() at end of stream, and each frame
// through parse_request against the built-in catalog (too_long frames:
// too_long_request()). Aborts when a property of docs/architecture.md,
// "Producer protocol", or of core/request.hpp does not hold.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/line_framer.hpp"
#include "core/request.hpp"
#include "fuzz_support.hpp"

namespace {

using bscd::Catalog;
using bscd::Frame;
using bscd::max_request_length;
using bscd::Request;
using bscd::fuzz::is_printable_ascii;

// A reason fits one short reply line `ERR <reason>`: the longest bscd gives
// is "unknown code name " or "not a request: " and 43 characters of input.
constexpr std::size_t max_error_length = 80;

struct ExpectedFrame {
    std::string text;
    bool terminated;
    bool too_long;
};

// The producer protocol's framing (docs/architecture.md), written the obvious
// way: a request ends at '\n' or at the end of the stream, a line over the
// limit is too long.
std::vector<ExpectedFrame> expected_frames(std::string_view bytes) {
    std::vector<ExpectedFrame> frames;
    const auto add = [&frames](std::string_view line, bool terminated) {
        const bool too_long = line.size() > max_request_length;
        frames.push_back({too_long ? std::string() : std::string(line), terminated, too_long});
    };
    for (;;) {
        const auto nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            if (!bytes.empty()) {
                add(bytes, false);
            }
            return frames;
        }
        add(bytes.substr(0, nl), true);
        bytes.remove_prefix(nl + 1);
    }
}

bool is_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check_printable(std::string_view text) {
    for (const std::size_t limit :
         {std::size_t{0}, std::size_t{1}, std::size_t{4}, std::size_t{40}, std::size_t{1000}}) {
        const std::string out = bscd::printable(text, limit);
        FUZZ_CHECK(is_printable_ascii(out));
        FUZZ_CHECK(out.size() <= limit + 3);
        // Printable text that fits is kept as it is.
        if (is_printable_ascii(text) && text.size() <= limit) {
            FUZZ_CHECK(out == text);
        }
    }
}

void check_request(const Frame& frame, const Request& request, const Catalog& catalog) {
    std::string_view text = frame.text;
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    switch (request.kind) {
        case Request::Kind::Invalid:
            FUZZ_CHECK(request.code == nullptr);
            FUZZ_CHECK(!request.error.empty());
            FUZZ_CHECK(request.error.size() <= max_error_length);
            FUZZ_CHECK(is_printable_ascii(request.error));  // no CR/LF: one reply line
            break;
        case Request::Kind::Exit:
            FUZZ_CHECK(!frame.too_long);
            FUZZ_CHECK(text == "EXIT");
            FUZZ_CHECK(request.code == nullptr && request.error.empty());
            break;
        case Request::Kind::Code: {
            FUZZ_CHECK(!frame.too_long);
            FUZZ_CHECK(request.error.empty());
            const bscd::StatusCode* code = request.code;
            FUZZ_CHECK(code != nullptr);
            FUZZ_CHECK(catalog.find(code->value) == code);
            FUZZ_CHECK(catalog.find(code->name) == code);
            // The request named this code: by name, or by value (leading zeros allowed).
            if (text != code->name) {
                FUZZ_CHECK(is_digits(text));
                const auto first = std::min(text.find_first_not_of('0'), text.size() - 1);
                FUZZ_CHECK(text.substr(first) == std::to_string(code->value));
            }
            break;
        }
    }
    if (frame.too_long) {
        FUZZ_CHECK(request.kind == Request::Kind::Invalid);
        return;
    }
    // Every code of the catalog is found by its name and its value.
    if (const bscd::StatusCode* named = catalog.find(text); named != nullptr) {
        FUZZ_CHECK(request.kind == Request::Kind::Code && request.code == named);
    }
    if (is_digits(text)) {
        for (const bscd::StatusCode& code : catalog.codes()) {
            if (text == std::to_string(code.value)) {
                FUZZ_CHECK(request.kind == Request::Kind::Code && request.code == &code);
            }
        }
    }
    if (text == "EXIT") {
        FUZZ_CHECK(request.kind == Request::Kind::Exit);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Catalog& catalog = Catalog::builtin();
    const std::string_view bytes = bscd::fuzz::as_text(data, size);

    bscd::LineFramer framer(max_request_length);
    std::vector<ExpectedFrame> frames;
    const auto handle = [&](const Frame& frame) {
        FUZZ_CHECK(frame.text.size() <= max_request_length);
        FUZZ_CHECK(!frame.too_long || frame.text.empty());
        FUZZ_CHECK(frame.text.find('\n') == std::string_view::npos);
        frames.push_back({std::string(frame.text), frame.terminated, frame.too_long});

        const Request request =
            frame.too_long ? bscd::too_long_request() : bscd::parse_request(frame.text, catalog);
        check_request(frame, request, catalog);
        check_printable(frame.text);
    };
    for (const std::string_view chunk : bscd::fuzz::chunks_of(bytes)) {
        framer.feed(chunk, [&](const Frame& frame) {
            FUZZ_CHECK(frame.terminated);
            handle(frame);
        });
        FUZZ_CHECK(framer.buffered() <= max_request_length);  // memory stays bounded
    }
    if (const std::optional<Frame> last = framer.finish(); last) {
        FUZZ_CHECK(!last->terminated);
        handle(*last);
    }
    FUZZ_CHECK(framer.buffered() == 0);
    FUZZ_CHECK(!framer.finish());  // finish() reset the framer

    // However the bytes were split, the frames are those of the rule.
    const std::vector<ExpectedFrame> expected = expected_frames(bytes);
    FUZZ_CHECK(frames.size() == expected.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        FUZZ_CHECK(frames[i].text == expected[i].text);
        FUZZ_CHECK(frames[i].terminated == expected[i].terminated);
        FUZZ_CHECK(frames[i].too_long == expected[i].too_long);
    }
    return 0;
}
