# Compiles data/build_status_codes into the binaries, so that the file stays
# the one and only list of codes (no second hand-written copy in C++).
set(BSCD_CATALOG_FILE ${PROJECT_SOURCE_DIR}/data/build_status_codes)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${BSCD_CATALOG_FILE})
file(READ ${BSCD_CATALOG_FILE} BSCD_CATALOG_TEXT)
configure_file(${PROJECT_SOURCE_DIR}/src/core/builtin_catalog.cpp.in
               ${PROJECT_BINARY_DIR}/generated/builtin_catalog.cpp @ONLY)
