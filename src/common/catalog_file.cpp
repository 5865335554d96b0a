#include "common/catalog_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace bscd {

Catalog read_catalog_file(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) {
        throw CatalogError(path, 0, std::string("cannot open: ") + std::strerror(errno));
    }
    std::string text;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        text.append(buffer, n);
    }
    if (std::ferror(file.get()) != 0) {
        throw CatalogError(path, 0, std::string("cannot read: ") + std::strerror(errno));
    }
    return Catalog::parse(text, path);
}

}  // namespace bscd
