// libFuzzer target: Catalog::parse (core/catalog.hpp), as bscd, bsc and
// bscd-gateway run it on a --codes file. Either a CatalogError with a
// one-line message, or a catalog whose every code is found by name, by value
// and by request, with unique names and values in file order.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/catalog.hpp"
#include "core/request.hpp"
#include "fuzz_support.hpp"

namespace {

using bscd::Catalog;
using bscd::CatalogError;
using bscd::fuzz::is_printable_ascii;

bool is_code_name(std::string_view name) {
    const auto start = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    };
    return !name.empty() && start(name.front()) && name != "EXIT" &&
           std::all_of(name.begin(), name.end(),
                       [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

// Lines that are neither blank nor a comment: each one is a code or an error.
std::size_t count_code_lines(std::string_view text, std::size_t& lines) {
    std::size_t codes = 0;
    lines = 0;
    while (!text.empty()) {
        ++lines;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string_view::npos && line[first] != '#') {
            ++codes;
        }
    }
    return codes;
}

void check_error(const CatalogError& error, std::size_t lines) {
    const std::string_view what = error.what();
    FUZZ_CHECK(is_printable_ascii(what));  // one line: no CR, LF or control bytes
    FUZZ_CHECK(error.source() == "<fuzz>");
    FUZZ_CHECK(error.line() <= lines);
    if (error.line() == 0) {
        FUZZ_CHECK(what == "<fuzz>: no codes");
    } else {
        const std::string prefix = "<fuzz>:" + std::to_string(error.line()) + ": ";
        FUZZ_CHECK(what.substr(0, prefix.size()) == prefix);
        FUZZ_CHECK(what.size() > prefix.size());
    }
}

void check_catalog(const Catalog& catalog, std::size_t code_lines) {
    const auto codes = catalog.codes();
    FUZZ_CHECK(!codes.empty());
    FUZZ_CHECK(codes.size() == code_lines);
    std::set<std::string_view> names;
    std::set<int> values;
    std::string text;  // the catalog written back, without descriptions
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const bscd::StatusCode& code = codes[i];
        FUZZ_CHECK(is_code_name(code.name));
        FUZZ_CHECK(code.value >= 0 && code.value <= Catalog::max_value);
        FUZZ_CHECK(names.insert(code.name).second);
        FUZZ_CHECK(values.insert(code.value).second);
        FUZZ_CHECK(catalog.find(code.name) == &code);
        FUZZ_CHECK(catalog.find(code.value) == &code);
        FUZZ_CHECK(catalog.position(code.value) == i);
        // A description is the rest of one line, trimmed.
        const std::string& description = code.description;
        FUZZ_CHECK(description.find('\n') == std::string::npos);
        if (!description.empty()) {
            FUZZ_CHECK(description.front() != ' ' && description.front() != '\t');
            FUZZ_CHECK(description.back() != ' ' && description.back() != '\t');
        }
        // A producer can send every code, by value and by name (docs/architecture.md,
        // "Producer protocol").
        const bscd::Request by_value = bscd::parse_request(std::to_string(code.value), catalog);
        FUZZ_CHECK(by_value.kind == bscd::Request::Kind::Code && by_value.code == &code);
        const bscd::Request by_name = bscd::parse_request(code.name, catalog);
        FUZZ_CHECK(by_name.kind == bscd::Request::Kind::Code && by_name.code == &code);

        text += code.name + "=" + std::to_string(code.value) + "\n";
    }
    // Written back, the catalog reads the same, in the same order.
    const Catalog again = Catalog::parse(text, "<again>");
    FUZZ_CHECK(again.codes().size() == codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
        FUZZ_CHECK(again.codes()[i].name == codes[i].name);
        FUZZ_CHECK(again.codes()[i].value == codes[i].value);
        FUZZ_CHECK(again.codes()[i].description.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = bscd::fuzz::as_text(data, size);
    std::size_t lines = 0;
    const std::size_t code_lines = count_code_lines(text, lines);
    std::optional<Catalog> catalog;
    try {
        catalog = Catalog::parse(text, "<fuzz>");
    } catch (const CatalogError& error) {
        check_error(error, lines);
        return 0;
    }
    check_catalog(*catalog, code_lines);
    return 0;
}
