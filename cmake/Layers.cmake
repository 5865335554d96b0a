# The layers of docs/architecture.md ("Layers"), enforced by the compiler.
#
# A library's include root holds one directory: a link named after its
# layer to src/<layer>. So "core/catalog.hpp" is found by bscd_core and by
# everything that links it, and "gateway/viewer.hpp" is not found from core
# or redis: an include of a layer above, or beside, fails to compile.
# scripts/check-layers.sh says the same thing in the lint step, with the
# rule in words.
function(bscd_expose_headers target layer)
  set(root ${PROJECT_BINARY_DIR}/layers/${layer})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${layer} ${root}/${layer} SYMBOLIC)
  target_include_directories(${target} PUBLIC ${root})
endfunction()

# A layer's headers without its library: the HTTP fuzzer compiles decide()
# alone, instrumented, without the gateway's sockets and Redis
# (tests/fuzz/CMakeLists.txt).
function(bscd_use_headers target)
  foreach(layer ${ARGN})
    target_include_directories(${target} PRIVATE ${PROJECT_BINARY_DIR}/layers/${layer})
  endforeach()
endfunction()
