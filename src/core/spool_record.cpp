#include "core/spool_record.hpp"

#include <array>
#include <charconv>

#include <boost/crc.hpp>

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

bool parse_line(std::string_view line, SpoolRecord& record) {
    const auto last_space = line.rfind(' ');
    if (last_space == std::string_view::npos) {
        return false;
    }
    std::uint32_t stored = 0;
    if (line.size() - last_space - 1 != 8 ||
        !parse_number(line.substr(last_space + 1), stored, 16) ||
        stored != checksum(line.substr(0, last_space))) {
        return false;
    }
    std::string_view rest = line.substr(0, last_space);
    const auto id = EntryId::parse(next_field(rest));
    const std::string_view code = next_field(rest);
    const std::string_view name = next_field(rest);
    const std::string_view accepted_ms = next_field(rest);
    if (!id || name.empty() || !rest.empty() || !parse_number(code, record.code) ||
        !parse_number(accepted_ms, record.accepted_ms)) {
        return false;
    }
    record.id = *id;
    record.name = std::string(name);
    return true;
}

}  // namespace

std::string encode_spool_record(const SpoolRecord& record) {
    std::string line = record.id.str() + ' ' + std::to_string(record.code) + ' ';
    line += record.name;
    line += ' ' + std::to_string(record.accepted_ms);
    std::array<char, 8> hex{};
    const std::uint32_t crc = checksum(line);
    for (std::size_t i = 0; i < hex.size(); ++i) {
        hex[hex.size() - 1 - i] = "0123456789abcdef"[(crc >> (4 * i)) & 0xfU];
    }
    line += ' ';
    line.append(hex.data(), hex.size());
    line += '\n';
    return line;
}

SpoolScan scan_spool(std::string_view text) {
    SpoolScan scan;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string_view::npos;
         start = end + 1, end = text.find('\n', start)) {
        SpoolRecord record;
        if (parse_line(text.substr(start, end - start), record)) {
            scan.records.push_back(std::move(record));
        } else {
            ++scan.damaged_lines;
        }
        scan.intact_bytes = end + 1;
    }
    scan.torn_tail = scan.intact_bytes < text.size();
    return scan;
}

}  // namespace bscd
