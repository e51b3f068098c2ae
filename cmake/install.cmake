# Installation: headers under include/cairn/<layer>/, static libraries, the CMake package
# (find_package(cairn CONFIG): cairn::properties, cairn::simfs, cairn::core, cairn::sut,
# cairn::sim, cairn::engines) and a pkg-config file (cairn.pc). examples/ builds against
# the installed tree (examples/README.md). Off for the header-only fmt of fuzz-only builds,
# whose fmt include path is not part of an installable tree.
option(CAIRN_INSTALL "Install rules for the libraries, headers, CMake package and pkg-config file"
       ${CAIRN_TOOLS})
if(NOT CAIRN_INSTALL OR CAIRN_FMT_HEADER_ONLY)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Library target -> exported name (cairn::<name>). Layer order: a library needs only the
# ones above it.
set(_cairn_exports
  cairn_fmt fmt
  cairn_properties properties
  cairn_simfs simfs
  cairn_core core
  cairn_sut sut
  cairn_sim sim)
if(TARGET cairn_engines)
  list(APPEND _cairn_exports cairn_engines engines)
endif()
set(_cairn_targets "")
while(_cairn_exports)
  list(POP_FRONT _cairn_exports _target _name)
  set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_name})
  list(APPEND _cairn_targets ${_target})
endwhile()

install(TARGETS ${_cairn_targets} EXPORT cairnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(_layer properties simfs core sut sim engines)
  if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/${_layer})
    install(DIRECTORY ${CMAKE_SOURCE_DIR}/${_layer}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cairn/${_layer}
            FILES_MATCHING PATTERN "*.h" PATTERN "tests" EXCLUDE PATTERN "cli" EXCLUDE)
  endif()
endforeach()

set(CAIRN_WITH_ENGINES OFF)
if(TARGET cairn_engines)
  set(CAIRN_WITH_ENGINES ON)
endif()
set(_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cairn)
install(EXPORT cairnTargets NAMESPACE cairn:: DESTINATION ${_cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cairnConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/cairnConfig.cmake INSTALL_DESTINATION ${_cmake_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cairnConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cairnConfig.cmake ${CMAKE_BINARY_DIR}/cairnConfigVersion.cmake
        DESTINATION ${_cmake_dir})

set(CAIRN_PC_ENGINE_LIBS "")
set(CAIRN_PC_ENGINE_REQUIRES "")
if(CAIRN_WITH_ENGINES)
  set(CAIRN_PC_ENGINE_LIBS "-lcairn_engines")
  set(CAIRN_PC_ENGINE_REQUIRES ", sqlite3")
  set(CAIRN_PC_ENGINE_PRIVATE_LIBS "-lleveldb")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/cairn.pc.in ${CMAKE_BINARY_DIR}/cairn.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/cairn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
