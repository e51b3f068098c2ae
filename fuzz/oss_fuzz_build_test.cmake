# Runs ci/oss-fuzz-build.sh the way OSS-Fuzz does and requires every target, its seed
# corpus zip and (where one exists) its dictionary in $OUT. As in the OSS-Fuzz image: clang
# with libc++ (CXXFLAGS -stdlib=libc++, as OSS-Fuzz sets them), <fuzzer/FuzzedDataProvider.h>
# from clang's resource directory (no include flag), no CLI11, Catch2, RapidCheck or fmt
# package (fmt's headers by FMT_INCLUDE_DIR, as .clusterfuzzlite/Dockerfile clones them).
file(REMOVE_RECURSE ${OUT})
set(ENV{CC} clang-14)
set(ENV{CXX} clang++-14)
set(ENV{CFLAGS} "-fsanitize=address,fuzzer-no-link")
set(ENV{CXXFLAGS} "-fsanitize=address,fuzzer-no-link -stdlib=libc++")
set(ENV{FMT_INCLUDE_DIR} /usr/include)
set(ENV{CAIRN_OSS_FUZZ_CMAKE_ARGS} "-DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON -DCMAKE_DISABLE_FIND_PACKAGE_rapidcheck=ON -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON")
# The fuzzing engine: Debian's libFuzzer runtime is built against libstdc++ and cannot link
# into a libc++ binary (OSS-Fuzz builds its own against libc++), so the engine here is the
# standalone driver (fuzz/standalone_main.cc) compiled with libc++, as OSS-Fuzz links
# engine-less builds. The instrumentation (-fsanitize=fuzzer-no-link) is the real one.
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND clang++-14 -std=c++20 -stdlib=libc++ -fsanitize=address -I${SRC} -c
                        ${SRC}/fuzz/standalone_main.cc -o ${WORK}/standalone_main.o
                RESULT_VARIABLE rc0 ERROR_VARIABLE err0)
if(NOT rc0 EQUAL 0)
  message(FATAL_ERROR "the standalone driver does not build with libc++\n${err0}")
endif()
set(ENV{LIB_FUZZING_ENGINE} "${WORK}/standalone_main.o -fsanitize=address")
set(ENV{OUT} ${OUT})
set(ENV{WORK} ${WORK})
execute_process(COMMAND ${SRC}/ci/oss-fuzz-build.sh RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ci/oss-fuzz-build.sh failed (${rc})\n${err}")
endif()
foreach(t frame_decode index_load metadata_load segment_recovery cli_parse engine)
  foreach(f ${t} ${t}_seed_corpus.zip ${t}.dict)
    if(NOT EXISTS ${OUT}/${f})
      message(FATAL_ERROR "missing ${OUT}/${f}")
    endif()
  endforeach()
endforeach()
foreach(t frame_decode engine)
  execute_process(COMMAND ${OUT}/${t} ${SRC}/corpus/${t} RESULT_VARIABLE rc2 OUTPUT_QUIET ERROR_VARIABLE err2)
  if(NOT rc2 EQUAL 0)
    message(FATAL_ERROR "the built ${t} target does not run its corpus\n${err2}")
  endif()
endforeach()
# Linked against libc++, as in the image (a libstdc++-only dependency would show here).
execute_process(COMMAND ldd ${OUT}/engine OUTPUT_VARIABLE libs)
if(NOT libs MATCHES "libc\\+\\+" OR libs MATCHES "libstdc\\+\\+")
  message(FATAL_ERROR "the engine target is not a libc++-only binary:\n${libs}")
endif()
