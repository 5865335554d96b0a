# What `cmake --install BUILD [--prefix P]` (and DESTDIR) puts in place, and
# the Debian package `cpack -G DEB` makes of it. The programs' own rule is in
# src/apps (install(TARGETS)); tests and benchmarks have none, so they are
# never installed.
#
#   bin/                          bscd, bsc, bscd-gateway
#                                 (+ bscd.py, bsc.py, check_redis.py: Pieman's names)
#   share/bscd/build_status_codes the codes catalog (also compiled into the programs)
#   share/bscd/bsc.sh             the shell library for builders
#   share/bscd/web/               the gateway's page (also compiled into it)
#   lib/systemd/system/           bscd@.service (one per project), bscd-gateway.service
#
# Components: everything is in the default one, except Pieman's program
# names, in component "pieman": installed by default only with
# BSCD_INSTALL_PIEMAN_NAMES=ON, and always on request with
# `cmake --install BUILD --component pieman`.

set(BSCD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go: relative to the installation prefix, or absolute")

install(FILES ${PROJECT_SOURCE_DIR}/data/build_status_codes
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bscd)
# Sourced, not run: not executable.
install(FILES ${PROJECT_SOURCE_DIR}/share/bscd/bsc.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bscd)
# The files the gateway embeds (cmake/EmbedWebAssets.cmake skips hidden ones).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/share/web/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bscd/web
        PATTERN ".*" EXCLUDE)

# Pieman's bscd.py, bsc.py and check_redis.py: each takes exactly Pieman's
# arguments and execs our program found next to itself.
set(_bscd_pieman_names
    ${PROJECT_SOURCE_DIR}/share/pieman/bscd.py
    ${PROJECT_SOURCE_DIR}/share/pieman/bsc.py
    ${PROJECT_SOURCE_DIR}/share/pieman/check_redis.py)
if(BSCD_INSTALL_PIEMAN_NAMES)
  install(PROGRAMS ${_bscd_pieman_names} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pieman)
else()
  install(PROGRAMS ${_bscd_pieman_names} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pieman
          EXCLUDE_FROM_ALL)
endif()

# The systemd units name the programs by absolute path, so they are written
# at install time, when the prefix is known (`--prefix` may differ from
# CMAKE_INSTALL_PREFIX; CPack installs with its own). Each prefix gets its own
# staging directory, removed once installed: installs into several prefixes
# may run at once (tests).
string(CONFIGURE [==[
  if(IS_ABSOLUTE "@CMAKE_INSTALL_BINDIR@")
    set(BSCD_INSTALLED_BINDIR "@CMAKE_INSTALL_BINDIR@")
  else()
    set(BSCD_INSTALLED_BINDIR "${CMAKE_INSTALL_PREFIX}/@CMAKE_INSTALL_BINDIR@")
  endif()
  if(IS_ABSOLUTE "@BSCD_SYSTEMD_UNIT_DIR@")
    set(_bscd_unit_dir "@BSCD_SYSTEMD_UNIT_DIR@")
  else()
    set(_bscd_unit_dir "${CMAKE_INSTALL_PREFIX}/@BSCD_SYSTEMD_UNIT_DIR@")
  endif()
  string(SHA1 _bscd_staging "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
  set(_bscd_staging "@PROJECT_BINARY_DIR@/systemd/${_bscd_staging}")
  set(_bscd_units "")
  foreach(_bscd_unit IN ITEMS "bscd@.service" "bscd-gateway.service")
    configure_file("@PROJECT_SOURCE_DIR@/share/systemd/${_bscd_unit}.in"
                   "${_bscd_staging}/${_bscd_unit}" @ONLY)
    list(APPEND _bscd_units "${_bscd_staging}/${_bscd_unit}")
  endforeach()
  file(INSTALL DESTINATION "${_bscd_unit_dir}" TYPE FILE FILES ${_bscd_units})
  file(REMOVE_RECURSE "${_bscd_staging}")
]==] _bscd_install_units @ONLY)
install(CODE "${_bscd_install_units}")

# cpack -G DEB: one package, the default component (so Pieman's names only
# with BSCD_INSTALL_PIEMAN_NAMES=ON), installed under /usr.
set(BSCD_PACKAGE_MAINTAINER "bscd maintainers <bscd@localhost>" CACHE STRING
    "Maintainer field of the Debian package")
set(CPACK_PACKAGE_NAME bscd)
set(CPACK_PACKAGE_VENDOR bscd)
set(CPACK_PACKAGE_CONTACT "${BSCD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "build status codes channel for image builders (Pieman compatible)")
# The long description, in lines that fit a terminal (one string, not a list).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "Image builds report a build status code after each stage. bscd, one daemon"
  "per build, takes the codes from the builder over a Unix socket and publishes"
  "them through Redis, with a history for late viewers. bsc reports codes and"
  "follows builds in a terminal; bscd-gateway shows builds' progress in"
  "browsers (Server-Sent Events, WebSocket, a ready-made page)."
  "Wire-compatible with Pieman's BSC channel: same flags, socket requests,"
  "Redis channel and payload. Also a shell library for bash builders and"
  "systemd units (bscd@PROJECT, bscd-gateway), not enabled.")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries themselves (dpkg-shlibdeps, dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(BSCD_INSTALL_PIEMAN_NAMES)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server")
set(CPACK_SOURCE_GENERATOR TGZ)
# `cpack --config CPackSourceConfig.cmake`: the sources, without the build
# directories, git's and npm's.
set(CPACK_SOURCE_IGNORE_FILES "^${PROJECT_SOURCE_DIR}/build[^/]*/" "/\\\\.git/" "/node_modules/")
include(CPack)
