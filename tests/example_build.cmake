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
