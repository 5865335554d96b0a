#pragma once
// Server-Sent Events framing (the HTML standard's text/event-stream): what
// the gateway writes to a viewer for each event. Pure, so that "nothing a
// client or producer sends can add a line to another viewer's stream" is
// checked here, once.

#include <string>
#include <string_view>

namespace bscd {

// "id: <id>\nevent: <type>\ndata: <line>\n\n". Data with line breaks (CR,
// LF or CRLF) becomes one data: field per line, which a browser joins back
// with LF; line breaks and NULs in id and type are dropped, as they cannot
// be represented there. An empty id writes no id: line, so the event
// leaves the client's last event id (its resume point) as it was.
std::string sse_event(std::string_view id, std::string_view type, std::string_view data);

// ": <text>\n\n": a comment, which clients ignore; keeps proxies from
// closing an idle stream. Line breaks in text are dropped.
std::string sse_comment(std::string_view text);

}  // namespace bscd
