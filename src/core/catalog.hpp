#pragma once
// The catalog of build status codes, parsed from Pieman's `build_status_codes`
// format: `NAME=VALUE` per line, optional `# description` after the value,
// blank lines and whole-line `#` comments allowed, leading/trailing blanks
// ignored. Line order is catalog order (progress is measured in it).

#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/status_code.hpp"

namespace bscd {

// A catalog that cannot be used. what() reads "<source>:<line>: <reason>",
// or "<source>: <reason>" when no single line is at fault (line == 0).
class CatalogError : public std::runtime_error {
public:
    CatalogError(std::string source, std::size_t line, const std::string& reason);
    [[nodiscard]] const std::string& source() const { return source_; }
    [[nodiscard]] std::size_t line() const { return line_; }

private:
    std::string source_;
    std::size_t line_;
};

class Catalog {
public:
    // Largest value a code may have; keeps values in int and requests short.
    static constexpr int max_value = 999'999'999;

    // Parses catalog text. `source` names it in errors (a path, "<builtin>").
    // Throws CatalogError for: a line without '=', a bad name (not a shell
    // variable name [A-Za-z_][A-Za-z0-9_]*, the reserved word EXIT, or longer
    // than max_request_length: no request could name it), a value
    // that is not a decimal number in [0, max_value], a duplicate name, a
    // duplicate value, and a text with no codes at all.
    static Catalog parse(std::string_view text, const std::string& source);

    // A file is read by read_catalog_file (common/catalog_file.hpp): core
    // does no I/O.

    // The catalog compiled in from data/build_status_codes.
    static const Catalog& builtin();

    [[nodiscard]] const StatusCode* find(int value) const;
    [[nodiscard]] const StatusCode* find(std::string_view name) const;

    // All codes, in catalog (file) order.
    [[nodiscard]] std::span<const StatusCode> codes() const { return codes_; }

    // Position of a code in catalog order, if the catalog has it.
    [[nodiscard]] std::optional<std::size_t> position(int value) const;

private:
    std::vector<StatusCode> codes_;
};

// Text of data/build_status_codes, generated into the build.
std::string_view builtin_catalog_text();

}  // namespace bscd
