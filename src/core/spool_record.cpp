#include "core/spool_record.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <stdexcept>

#include <boost/crc.hpp>

#include "core/project.hpp"

namespace bscd {
namespace {

std::uint32_t checksum(std::string_view text) {
    boost::crc_32_type crc;
    crc.process_bytes(text.data(), text.size());
    return crc.checksum();
}

// Splits off the text up to the next ' ' (or the end).
std::string_view next_field(std::string_view& rest) {
    const auto space = rest.find(' ');
    const std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return field;
}

template <typename Number>
bool parse_number(std::string_view text, Number& value, int base = 10) {
    const auto* end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, value, base);
    return !text.empty() && result.ec == std::errc() && result.ptr == end;
}

constexpr std::string_view mark_word = "confirmed";
constexpr std::string_view start_word = "start";

// A line's text before its checksum, when the checksum matches.
std::optional<std::string_view> checked_body(std::string_view line) {
    const auto last_space = line.rfind(' ');
    if (last_space == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint32_t stored = 0;
    if (line.size() - last_space - 1 != 8 ||
        !parse_number(line.substr(last_space + 1), stored, 16) ||
        stored != checksum(line.substr(0, last_space))) {
        return std::nullopt;
    }
    return line.substr(0, last_space);
}

std::optional<EntryId> parse_mark(std::string_view body) {
    if (next_field(body) != mark_word) {
        return std::nullopt;
    }
    const auto id = EntryId::parse(next_field(body));
    return body.empty() ? id : std::nullopt;
}

std::optional<BuildStart> parse_start(std::string_view body) {
    if (next_field(body) != start_word) {
        return std::nullopt;
    }
    // "<ms>" or "<ms> <profile>": a profile field is there only for a profile.
    const auto space = body.find(' ');
    BuildStart start;
    if (!parse_number(body.substr(0, space), start.started_ms)) {
        return std::nullopt;
    }
    if (space != std::string_view::npos) {
        const std::string_view profile = body.substr(space + 1);
        if (!is_valid_profile_name(profile)) {
            return std::nullopt;
        }
        start.profile = std::string(profile);
    }
    return start;
}

bool parse_record(std::string_view rest, SpoolRecord& record) {
    const auto id = EntryId::parse(next_field(rest));
    const std::string_view code = next_field(rest);
    const std::string_view name = next_field(rest);
    const std::string_view accepted_ms = next_field(rest);
    if (!id || name.empty() || !rest.empty() || !parse_number(code, record.code) ||
        !parse_number(accepted_ms, record.ts_ms)) {
        return false;
    }
    record.id = *id;
    record.name = std::string(name);
    return true;
}

// `body` with its checksum and the line's end appended.
std::string checked_line(std::string body) {
    std::array<char, 8> hex{};
    const std::uint32_t crc = checksum(body);
    for (std::size_t i = 0; i < hex.size(); ++i) {
        hex[hex.size() - 1 - i] = "0123456789abcdef"[(crc >> (4 * i)) & 0xfU];
    }
    body += ' ';
    body.append(hex.data(), hex.size());
    body += '\n';
    return body;
}

}  // namespace

std::string encode_spool_record(const SpoolRecord& record) {
    std::string body = record.id.str() + ' ' + std::to_string(record.code) + ' ';
    body += record.name;
    body += ' ' + std::to_string(record.ts_ms);
    return checked_line(std::move(body));
}

std::string encode_confirmed_mark(EntryId newest) {
    return checked_line(std::string(mark_word) + ' ' + newest.str());
}

std::string encode_build_start(const BuildStart& start) {
    if (!start.profile.empty() && !is_valid_profile_name(start.profile)) {
        throw std::invalid_argument("not a profile name: " + start.profile);
    }
    std::string body = std::string(start_word) + ' ' + std::to_string(start.started_ms);
    if (!start.profile.empty()) {
        body += ' ' + start.profile;
    }
    return checked_line(std::move(body));
}

SpoolScan scan_spool(std::string_view text) {
    SpoolScan scan;
    std::optional<EntryId> confirmed;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string_view::npos;
         start = end + 1, end = text.find('\n', start)) {
        const auto body = checked_body(text.substr(start, end - start));
        SpoolRecord record;
        if (const auto mark = body ? parse_mark(*body) : std::nullopt) {
            confirmed = confirmed ? std::max(*confirmed, *mark) : *mark;
        } else if (auto started = body ? parse_start(*body) : std::nullopt) {
            scan.build_start = std::move(started);  // a later one is the newer
        } else if (body && parse_record(*body, record)) {
            scan.records.push_back(std::move(record));
        } else {
            ++scan.damaged_lines;
        }
        scan.intact_bytes = end + 1;
    }
    scan.torn_tail = scan.intact_bytes < text.size();
    if (confirmed) {
        const auto unconfirmed =
            std::remove_if(scan.records.begin(), scan.records.end(),
                           [&](const SpoolRecord& record) { return record.id <= *confirmed; });
        scan.confirmed_records = static_cast<std::size_t>(scan.records.end() - unconfirmed);
        scan.records.erase(unconfirmed, scan.records.end());
    }
    return scan;
}

}  // namespace bscd
