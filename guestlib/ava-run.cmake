# ava-run: the launcher (included from guestlib/CMakeLists.txt).
# It finds avarouterd next to itself at run time, so building it builds the router too,
# and the guest libraries, API servers and ICD vendors folder relative to itself:
# <libdir>/ava and <datadir>/ava, as the install places them relative to <bindir>
# (../lib and ../share for most prefixes; the build tree has ../lib).
file(RELATIVE_PATH ava_run_libdir ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
file(RELATIVE_PATH ava_run_datadir ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_DATADIR})
add_executable(ava-run ${CMAKE_CURRENT_LIST_DIR}/ava-run.c)
target_compile_definitions(ava-run PRIVATE
  AVA_INSTALL_LIBDIR="${ava_run_libdir}"
  AVA_INSTALL_DATADIR="${ava_run_datadir}")
target_link_libraries(ava-run PRIVATE ${CMAKE_DL_LIBS} ava::warnings)
add_dependencies(ava-run avarouterd)
install(TARGETS ava-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
