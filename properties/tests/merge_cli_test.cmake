# cairn-props merge: exits 1 on a never-true SOMETIMES across two shards, 0 once it is rare.
execute_process(COMMAND ${PROPS} merge ${DIR}/shard-a.jsonl ${DIR}/shard-b.jsonl
                        --out ${OUT}/merged.json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit 1 for a never-hit SOMETIMES, got ${rc}")
endif()
if(NOT out MATCHES "a torn tail was seen[^\n]*never-hit")
  message(FATAL_ERROR "table does not mark the SOMETIMES never-hit")
endif()
file(READ ${OUT}/merged.json merged)
string(JSON runs GET "${merged}" runs)
string(JSON evals GET "${merged}" properties 0 evaluations)
if(NOT runs EQUAL 2 OR NOT evals EQUAL 7)
  message(FATAL_ERROR "merged report has runs=${runs} evaluations=${evals}, expected 2 and 7")
endif()
execute_process(COMMAND ${PROPS} merge ${DIR}/shard-a.jsonl ${DIR}/shard-b.jsonl
                        --rare ${DIR}/rare.txt RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2)
if(NOT rc2 EQUAL 0)
  message(FATAL_ERROR "expected exit 0 with the rare list, got ${rc2}\n${out2}")
endif()
