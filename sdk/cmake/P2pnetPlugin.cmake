# p2pnet_add_plugin(<target> NAME <name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>])
#
# Builds a p2pnet plugin: a module library named p2pnet_<name>.so that exports
# only its entry point, links nothing of the node, and is found by name in a
# node's plugin directories. Stock plugins are built with this same function.
# A plugin whose sources are all C (.c) uses only the C ABI header: it needs
# neither C++20 nor nlohmann/json.
function(p2pnet_add_plugin target)
  cmake_parse_arguments(ARG "" "NAME;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_NAME)
    message(FATAL_ERROR "p2pnet_add_plugin(${target}): NAME is required")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  set(c_only ON)
  foreach(source IN LISTS ARG_SOURCES)
    if(NOT source MATCHES "\\.(c|h)$")
      set(c_only OFF)
    endif()
  endforeach()
  if(c_only)
    target_link_libraries(${target} PRIVATE p2pnet::sdk_c)
  else()
    if(NOT TARGET nlohmann_json::nlohmann_json)
      message(FATAL_ERROR "p2pnet_add_plugin(${target}): a C++ plugin needs nlohmann_json 3.10 or later "
                          "(find_package(nlohmann_json) found none); a plugin in plain C does not")
    endif()
    target_link_libraries(${target} PRIVATE p2pnet::sdk)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "p2pnet_${ARG_NAME}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ marks the standard library's inline statics STB_GNU_UNIQUE, even
    # with hidden visibility, and glibc then never unloads the library: every
    # live reload of the plugin would stay mapped until the process ends.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT P2PNET_SANITIZE)
    # A plugin may only reach the node through the host table: fail the link
    # instead of loading with unresolved symbols. (Sanitizer builds leave the
    # sanitizer runtime's symbols to the executable.)
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()
endfunction()
