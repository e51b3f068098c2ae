# A canary must make cairn-sim-canary fail (exit 1) within BOUND seeds (SETS: extra
# swarm overrides, a list of arguments, for a planted bug the default swarm meets rarely).
execute_process(COMMAND ${SIM} --canary ${CANARY} --seeds 1..${BOUND} --jobs 2 --stop-on-failure ${SETS}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(REGEX MATCH "FAILED seed [0-9]+[^\n]*" first "${out}")
message("${CANARY}: ${first}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "canary ${CANARY} was not caught within ${BOUND} seeds (exit ${rc})\n${out}")
endif()
