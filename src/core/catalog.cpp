#include "core/catalog.hpp"

#include <algorithm>
#include <utility>

#include "core/request.hpp"

namespace bscd {

namespace {

constexpr std::string_view blanks = " \t";

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(blanks);
    return s.substr(first, last - first + 1);
}

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

// A shell variable name that is not the reserved request word EXIT.
bool is_valid_code_name(std::string_view name) {
    if (name.empty() || !is_name_start(name.front()) || name == "EXIT") {
        return false;
    }
    for (char c : name) {
        if (!is_name_char(c)) {
            return false;
        }
    }
    return true;
}

// Decimal digits only, no sign, within [0, Catalog::max_value].
enum class ValueStatus { Ok, NotANumber, OutOfRange };

ValueStatus parse_value(std::string_view text, int& value) {
    if (text.empty()) {
        return ValueStatus::NotANumber;
    }
    long long v = 0;
    bool out_of_range = false;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return ValueStatus::NotANumber;
        }
        if (!out_of_range) {
            v = v * 10 + (c - '0');
            out_of_range = v > Catalog::max_value;
        }
    }
    if (out_of_range) {
        return ValueStatus::OutOfRange;
    }
    value = static_cast<int>(v);
    return ValueStatus::Ok;
}

std::string quoted(std::string_view text) {
    return "\"" + printable(text, 60) + "\"";
}

}  // namespace

CatalogError::CatalogError(std::string source, std::size_t line, const std::string& reason)
    : std::runtime_error(line == 0 ? source + ": " + reason
                                   : source + ":" + std::to_string(line) + ": " + reason),
      source_(std::move(source)),
      line_(line) {}

Catalog Catalog::parse(std::string_view text, const std::string& source) {
    Catalog catalog;
    std::vector<std::size_t> lines;  // line number of each code, for duplicate errors
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        line = trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto fail = [&](const std::string& reason) {
            throw CatalogError(source, line_no, reason);
        };

        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            fail("expected NAME=VALUE");
        }
        const std::string_view name = line.substr(0, eq);
        if (!is_valid_code_name(name)) {
            fail("bad name " + quoted(name));
        }
        // A producer sends a code by its name: the name must fit in a request.
        if (name.size() > max_request_length) {
            fail("bad name " + quoted(name) + ": longer than " +
                 std::to_string(max_request_length) + " characters, the longest request");
        }

        std::string_view rest = line.substr(eq + 1);
        const auto value_end = std::min(rest.find_first_of(blanks), rest.size());
        const std::string_view value_text = rest.substr(0, value_end);
        rest = trim(rest.substr(value_end));

        int value = 0;
        switch (parse_value(value_text, value)) {
            case ValueStatus::Ok:
                break;
            case ValueStatus::NotANumber:
                fail("value " + quoted(value_text) + " of " + std::string(name) +
                     " is not a number");
                break;
            case ValueStatus::OutOfRange:
                fail("value " + quoted(value_text) + " of " + std::string(name) +
                     " is out of range 0.." + std::to_string(max_value));
                break;
        }

        std::string description;
        if (!rest.empty()) {
            if (rest.front() != '#') {
                fail("unexpected " + quoted(rest) + " after the value of " + std::string(name) +
                     " (a description starts with '#')");
            }
            description = std::string(trim(rest.substr(1)));
        }

        for (std::size_t i = 0; i < catalog.codes_.size(); ++i) {
            const StatusCode& other = catalog.codes_[i];
            if (other.name == name) {
                fail("duplicate name " + std::string(name) + " (already on line " +
                     std::to_string(lines[i]) + ")");
            }
            if (other.value == value) {
                fail("duplicate value " + std::to_string(value) + " (already " + other.name +
                     " on line " + std::to_string(lines[i]) + ")");
            }
        }
        catalog.codes_.push_back(StatusCode{value, std::string(name), std::move(description)});
        lines.push_back(line_no);
    }
    if (catalog.codes_.empty()) {
        throw CatalogError(source, 0, "no codes");
    }
    return catalog;
}

const Catalog& Catalog::builtin() {
    static const Catalog catalog = parse(builtin_catalog_text(), "<builtin>");
    return catalog;
}

const StatusCode* Catalog::find(int value) const {
    for (const StatusCode& code : codes_) {
        if (code.value == value) {
            return &code;
        }
    }
    return nullptr;
}

const StatusCode* Catalog::find(std::string_view name) const {
    for (const StatusCode& code : codes_) {
        if (code.name == name) {
            return &code;
        }
    }
    return nullptr;
}

std::optional<std::size_t> Catalog::position(int value) const {
    for (std::size_t i = 0; i < codes_.size(); ++i) {
        if (codes_[i].value == value) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace bscd
