#pragma once
// Text from a client, quoted in a log line. A header, a name or a path a
// client sent can be long (a header up to 8 KiB) and hold anything: line
// breaks that would forge a line of their own, terminal escapes, bytes that
// are not UTF-8. Whatever the gateway quotes from a request goes through
// quoted_for_log. (core/request.hpp's printable() is the producer
// protocol's: its output is part of bscd's ERR replies.)

#include <cstddef>
#include <string>
#include <string_view>

namespace bscd {

// How much of a client's text a log line quotes, by default.
inline constexpr std::size_t log_quote_limit = 200;

// `text` in double quotes, safe for one log line: printable ASCII as it is
// but for `"` and `\` (escaped with a backslash), every other byte (control
// characters, DEL, bytes 0x80 and above) as \xNN. Cut after at most `max`
// characters of that escaped text, never inside an escape, and then
// followed by "...(N bytes)", N the length of the whole text:
//   quoted_for_log("a\"b\n") == R"("a\"b\x0a")"
//   quoted_for_log("abcdef", 3) == R"("abc"...(6 bytes))"
std::string quoted_for_log(std::string_view text, std::size_t max = log_quote_limit);

}  // namespace bscd
