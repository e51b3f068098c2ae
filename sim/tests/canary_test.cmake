# A canary must make cairn-sim-canary fail (exit 1) within BOUND seeds (SETS: extra
# swarm overrides, a list of arguments, for a planted bug the default swarm meets rarely).
# SEEDS (instead of 1..BOUND): the range to run, for a bug first met far into the sweep.
if(NOT DEFINED SEEDS)
  set(SEEDS 1..${BOUND})
endif()
execute_process(COMMAND ${SIM} --canary ${CANARY} --seeds ${SEEDS} --jobs 2 --stop-on-failure ${SETS}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(REGEX MATCH "FAILED seed [0-9]+[^\n]*" first "${out}")
message("${CANARY}: ${first}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "canary ${CANARY} was not caught within ${BOUND} seeds (exit ${rc})\n${out}")
endif()
