# What `cmake --install` adds for projects that build their own APIs on AvA
# (docs/building.md, "Out of tree"): the runtimes, their headers, the CMake
# package and the pkg-config files. Included last from the top CMakeLists.txt.
#
#   <bindir>/avagen                         (codegen/), avarouterd, avactl, ava-run
#   <libdir>/libava_{guestlib,apiserver,common}.a   static, position-independent
#   <includedir>/ava/*.h                    spec.h and the runtime headers
#   <libdir>/cmake/ava/                     avaConfig.cmake: find_package(ava) gives
#                                           ava::avagen, ava::guestlib, ava::apiserver,
#                                           ava::common and ava_add_api()
#   <libdir>/pkgconfig/ava{,-guest,-server}.pc
#
# The runtimes are static archives, as in this tree: a guest library must
# export exactly its API (version script, hidden visibility) and be one file
# that a loader or LD_LIBRARY_PATH can stand in for the vendor's, and an API
# server is one executable in its sandbox; a shared runtime would be a second
# object to find at run time in every application, and its interface is no
# stable ABI yet.
include(CMakePackageConfigHelpers)

install(TARGETS ava_common ava_guestlib ava_apiserver EXPORT avaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ava
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

set(ava_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ava)
install(EXPORT avaTargets NAMESPACE ava:: DESTINATION ${ava_cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/avaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/avaConfig.cmake
  INSTALL_DESTINATION ${ava_cmake_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/avaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/avaConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/avaConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/AvaApi.cmake
  ${CMAKE_CURRENT_LIST_DIR}/AvaSymbolVersions.cmake
  DESTINATION ${ava_cmake_dir})

# pkg-config: prefix relative to the .pc file, so a staged (DESTDIR) or moved
# install works as well as the final one.
set(ava_pc_dir ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH AVA_PC_PREFIX_FROM_PCDIR ${ava_pc_dir} ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" AVA_PC_PREFIX_FROM_PCDIR "${AVA_PC_PREFIX_FROM_PCDIR}")
file(RELATIVE_PATH AVA_PC_LIBDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_LIBDIR})
file(RELATIVE_PATH AVA_PC_INCLUDEDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_INCLUDEDIR})
file(RELATIVE_PATH AVA_PC_BINDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_BINDIR})
foreach(pc ava ava-guest ava-server)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${PROJECT_BINARY_DIR}/cmake/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/${pc}.pc DESTINATION ${ava_pc_dir})
endforeach()
