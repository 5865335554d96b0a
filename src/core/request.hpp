#pragma once
// What one producer request means (docs/architecture.md, "Producer protocol").

#include <string>
#include <string_view>

#include "core/catalog.hpp"

namespace bscd {

struct Request {
    enum class Kind { Code, Exit, Invalid };
    Kind kind = Kind::Invalid;
    const StatusCode* code = nullptr;  // Kind::Code: the catalog's entry
    std::string error;                 // Kind::Invalid: reason for `ERR <reason>`
};

// Longest request bscd reads; longer lines are answered `ERR` unread.
inline constexpr std::size_t max_request_length = 256;

// Interprets one framed request (no '\n'; one trailing '\r' is ignored):
// a decimal code value ("10"), a code name ("SYNCED_CODE") or "EXIT".
// Anything else is Invalid with a one-line, printable reason: empty request,
// unknown code value, unknown code name, too long, or not a request (any other
// text, including blanks, signs and binary bytes). The reason quotes the
// offending input escaped and shortened (see printable()), never raw bytes.
Request parse_request(std::string_view text, const Catalog& catalog);

// The reply for a too_long frame.
Request too_long_request();

// `text` made safe for one log or reply line: printable ASCII kept, other
// bytes as \xNN, cut to `limit` characters with "..." appended if longer.
std::string printable(std::string_view text, std::size_t limit = 40);

}  // namespace bscd
