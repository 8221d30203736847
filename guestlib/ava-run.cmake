# ava-run: the launcher (included from guestlib/CMakeLists.txt).
# It finds avarouterd next to itself at run time, so building it builds the router too.
add_executable(ava-run ${CMAKE_CURRENT_LIST_DIR}/ava-run.c)
target_link_libraries(ava-run PRIVATE ava::warnings)
if(TARGET avarouterd OR EXISTS ${CMAKE_SOURCE_DIR}/hv-router/CMakeLists.txt)
  add_dependencies(ava-run avarouterd)
endif()
install(TARGETS ava-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
