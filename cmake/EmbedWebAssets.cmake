# Compiles every file of share/web/ (the page bscd-gateway serves) into
# ${PROJECT_BINARY_DIR}/generated/web_assets.cpp, so that the gateway is one
# self-contained program and serves exactly the page it was built with.
#
# CONFIGURE_DEPENDS re-runs the glob at each build (a file added or removed),
# and each file is a configure dependency (a file edited); configure_file()
# rewrites the output only when it changes, so nothing recompiles otherwise.
set(BSCD_WEB_DIR ${PROJECT_SOURCE_DIR}/share/web)
file(GLOB BSCD_WEB_FILES LIST_DIRECTORIES false CONFIGURE_DEPENDS ${BSCD_WEB_DIR}/*)

# 32 bytes per line of the generated string literals.
string(REPEAT "[0-9a-f][0-9a-f]" 32 _bscd_web_line)

set(BSCD_WEB_ASSET_BODIES "")
set(BSCD_WEB_ASSET_ENTRIES "")
set(BSCD_WEB_ASSET_COUNT 0)
foreach(_bscd_web_file IN LISTS BSCD_WEB_FILES)
  get_filename_component(_bscd_web_name ${_bscd_web_file} NAME)
  # The gateway only serves /assets/[A-Za-z0-9._-]+; hidden files (.gitkeep,
  # editors' swap files) are not part of the page.
  if(NOT _bscd_web_name MATCHES "^[A-Za-z0-9_-][A-Za-z0-9._-]*$" OR _bscd_web_name MATCHES "\\.\\.")
    if(NOT _bscd_web_name MATCHES "^\\.")
      message(WARNING "share/web/${_bscd_web_name}: not embedded: the gateway serves only names of [A-Za-z0-9._-] without '..'")
    endif()
    continue()
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_bscd_web_file})

  file(READ ${_bscd_web_file} _bscd_web_hex HEX)
  string(REGEX REPLACE "(${_bscd_web_line})" "\\1\n" _bscd_web_hex "${_bscd_web_hex}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" _bscd_web_hex "${_bscd_web_hex}")
  string(REGEX REPLACE "\n$" "" _bscd_web_hex "${_bscd_web_hex}")
  string(REPLACE "\n" "\"\n    \"" _bscd_web_hex "${_bscd_web_hex}")

  set(_bscd_web_var "asset_${BSCD_WEB_ASSET_COUNT}")
  string(APPEND BSCD_WEB_ASSET_BODIES
         "// ${_bscd_web_name}\nconstexpr char ${_bscd_web_var}[] =\n    \"${_bscd_web_hex}\";\n")
  string(APPEND BSCD_WEB_ASSET_ENTRIES
         "    {\"${_bscd_web_name}\", content_type_for(\"${_bscd_web_name}\"),\n"
         "     {${_bscd_web_var}, sizeof(${_bscd_web_var}) - 1}},\n")
  math(EXPR BSCD_WEB_ASSET_COUNT "${BSCD_WEB_ASSET_COUNT} + 1")
endforeach()

configure_file(${PROJECT_SOURCE_DIR}/src/gateway/web_assets.cpp.in
               ${PROJECT_BINARY_DIR}/generated/web_assets.cpp @ONLY)
