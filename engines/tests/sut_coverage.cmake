# Runs an engine sweep with --properties-out and fails unless every "sut:" SOMETIMES of the
# harness (sut/run.cc) was reached: a sweep whose faults never fire proves nothing.
# Usage: cmake -DSIM=cairn-sim -DENGINE=NAME -DSEEDS=1..N -DOUT=FILE -P sut_coverage.cmake
execute_process(COMMAND ${SIM} --engine ${ENGINE} --seeds ${SEEDS} --jobs 2 --properties-out ${OUT}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cairn-sim --engine ${ENGINE} --seeds ${SEEDS} failed (${rc})")
endif()
file(STRINGS ${OUT} lines REGEX "\"message\":\"sut: ")
list(LENGTH lines count)
if(count LESS 9)
  message(FATAL_ERROR "only ${count} sut: properties in ${OUT}")
endif()
foreach(line IN LISTS lines)
  if(NOT line MATCHES "\"hit\":true")
    string(REGEX MATCH "\"message\":\"[^\"]*\"" what "${line}")
    message(FATAL_ERROR "never reached in ${ENGINE} seeds ${SEEDS}: ${what}")
  endif()
endforeach()
message(STATUS "${count} sut: properties reached in ${ENGINE} seeds ${SEEDS}")
