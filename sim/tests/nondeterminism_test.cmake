# --check-determinism must notice a second process that diverges: exit 3, naming the
# first trace line where the two runs differ.
set(ENV{CAIRN_SIM_DIVERGE_SECOND_PROCESS} 1)
execute_process(COMMAND ${SIM} --seed 5 --check-determinism OUTPUT_VARIABLE out RESULT_VARIABLE rc)
message("${out}")
if(NOT rc EQUAL 3)
  message(FATAL_ERROR "expected exit 3 for nondeterminism, got ${rc}")
endif()
if(NOT out MATCHES "NONDETERMINISM: seed 5" OR NOT out MATCHES "first difference at trace line [0-9]+")
  message(FATAL_ERROR "the mismatch was not reported with its first differing line")
endif()
