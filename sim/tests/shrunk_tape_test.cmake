# A shrunk tape of corpus/shrunk/ (ci/shrink-table) replays and fails the same way: the
# same oracle check as the failure the tape records.
#   cmake -DSIM=cairn-sim-canary -DTAPE=corpus/shrunk/NAME.tape -P shrunk_tape_test.cmake
execute_process(COMMAND ${SIM} --replay ${TAPE} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "${TAPE}: exit ${rc}, expected 1 (a failure)\n${out}${err}")
endif()
string(FIND "${out}" "the same failure as the tape records" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TAPE} fails another way (regenerate with ci/shrink-table if the world's draws changed)\n${out}")
endif()
