// read_catalog_file: the --codes file read from a temporary directory.
#include "common/catalog_file.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace bscd {
namespace {

std::vector<int> values_of(const Catalog& catalog) {
    std::vector<int> values;
    for (const StatusCode& code : catalog.codes()) {
        values.push_back(code.value);
    }
    return values;
}

class CatalogFile : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::path(::testing::TempDir()) /
               ("bscd_catalog_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << text;
        return path.string();
    }

    std::filesystem::path dir_;
};

TEST_F(CatalogFile, LoadsCodesInOrder) {
    const std::string path = write("codes", "# mine\nFIRST_CODE=5 # first\nLAST_CODE=1000\n");
    const Catalog catalog = read_catalog_file(path);
    EXPECT_EQ(values_of(catalog), (std::vector<int>{5, 1000}));
    EXPECT_EQ(catalog.find(5)->name, "FIRST_CODE");
    EXPECT_EQ(catalog.find(5)->description, "first");
}

TEST_F(CatalogFile, LoadsACopyOfTheBuiltinText) {
    const Catalog catalog = read_catalog_file(write("codes", std::string(builtin_catalog_text())));
    EXPECT_EQ(values_of(catalog), values_of(Catalog::builtin()));
}

TEST_F(CatalogFile, ErrorsNameThePath) {
    const std::string path = write("codes", "A=1\nB=x\n");
    try {
        read_catalog_file(path);
        FAIL() << "no CatalogError";
    } catch (const CatalogError& e) {
        EXPECT_EQ(e.source(), path);
        EXPECT_EQ(e.line(), 2u);
        EXPECT_EQ(std::string(e.what()), path + ":2: value \"x\" of B is not a number");
    }
}

TEST_F(CatalogFile, EmptyFileHasNoCodes) {
    const std::string path = write("empty", "");
    try {
        read_catalog_file(path);
        FAIL() << "no CatalogError";
    } catch (const CatalogError& e) {
        EXPECT_EQ(e.line(), 0u);
        EXPECT_EQ(std::string(e.what()), path + ": no codes");
    }
}

TEST_F(CatalogFile, MissingFileIsAnErrorWithoutLine) {
    const std::string path = (dir_ / "does-not-exist").string();
    try {
        read_catalog_file(path);
        FAIL() << "no CatalogError";
    } catch (const CatalogError& e) {
        EXPECT_EQ(e.source(), path);
        EXPECT_EQ(e.line(), 0u);
        EXPECT_EQ(std::string(e.what()).rfind(path + ": cannot open", 0), 0u) << e.what();
    }
}

TEST_F(CatalogFile, DirectoryIsAnErrorWithoutLine) {
    const std::string path = dir_.string();
    try {
        read_catalog_file(path);
        FAIL() << "no CatalogError";
    } catch (const CatalogError& e) {
        EXPECT_EQ(e.line(), 0u);
        EXPECT_EQ(std::string(e.what()).rfind(path + ": cannot", 0), 0u) << e.what();
    }
}

}  // namespace
}  // namespace bscd
