#pragma once
// Reading a catalog file (--codes): the file is I/O, so it is read here and
// parsed by the pure Catalog::parse in core.

#include <string>

#include "core/catalog.hpp"

namespace bscd {

// Reads and parses the file at `path`. Throws CatalogError naming the path:
// line 0 when the file cannot be opened or read, the line of a bad entry
// otherwise.
Catalog read_catalog_file(const std::string& path);

}  // namespace bscd
