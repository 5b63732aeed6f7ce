# Installs the SDK from the build tree into a scratch prefix, then configures
# and builds examples/chat against it in a separate build directory, as a
# third party would. Run with cmake -P.
file(REMOVE_RECURSE "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}\n${output}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
if(NOT EXISTS "${WORK_DIR}/prefix/bin/p2pnode")
  message(FATAL_ERROR "cmake --install did not install p2pnode")
endif()
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/chat" -B "${WORK_DIR}/build" -G Ninja
    "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
if(NOT EXISTS "${WORK_DIR}/build/p2pnet_chat.so")
  message(FATAL_ERROR "the example did not produce p2pnet_chat.so")
endif()

# A plain-C plugin: no C++ compiler in its project, nlohmann_json hidden from
# find_package, and only the entry point exported.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/c_package" -B "${WORK_DIR}/c-build" -G Ninja
    "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/c-build")
set(c_plugin "${WORK_DIR}/c-build/p2pnet_c_package.so")
if(NOT EXISTS "${c_plugin}")
  message(FATAL_ERROR "the C plugin did not produce p2pnet_c_package.so")
endif()
execute_process(COMMAND nm -D --defined-only "${c_plugin}" OUTPUT_VARIABLE exported RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0 OR NOT exported MATCHES "p2pnet_plugin_entry" OR exported MATCHES "c_package_internal_helper")
  message(FATAL_ERROR "the C plugin must export p2pnet_plugin_entry and nothing of its own; it exports:\n${exported}")
endif()
