# ava_add_api(): builds the remoting pieces of one API from its spec.
#
#   ava_add_api(NAME avatest
#     SPEC ${PROJECT_SOURCE_DIR}/spec/avatest.spec
#     INCLUDES ${PROJECT_SOURCE_DIR}/tests/avatest   # where the spec's headers are
#     LIBRARIES avatest                             # what the API server links: the real library
#     SONAMES libavatest.so.1                       # names the guest library stands in for
#     [DEFINES X=1 ...]                             # macros while reading the spec
#     [SYMBOL_VERSIONS_FROM /path/libvendor.so]     # give guest symbols the vendor's versions
#     [GUEST_SOURCES icd.c ...]                     # hand-written sources of the guest library
#     [SERVER_SOURCES events.c ...]                 # hand-written sources of the API server
#     [ABI ${PROJECT_SOURCE_DIR}/spec/avatest.abi]) # committed manifest (default: beside SPEC)
#
# Creates:
#   ava-gen-<name>      the one target that runs avagen (and versions the map); every
#                       target below that reads a generated file depends on it
#   ava_<name>.h        for the hand-written sources (GUEST_SOURCES and the server's):
#                       call ids, typed arguments, descriptors; on both targets' include path
#   ava-guest-<name>    shared library lib/ava/guest/<name>/libava-guest-<name>.so exporting
#                       exactly the API's functions, plus a symlink per SONAMES entry
#   ava-server-<name>   the API server, in ${AVA_API_DIR}, with <name>.abi beside it
#   ava-update-abi-<name>  target copying the generated manifest over the committed one
#   test abi-<name>     fails when the generated manifest differs from the committed one
# and install rules (guest libraries under <libdir>/ava/guest/<name>, servers and
# manifests under <libdir>/ava/apis). The generated sources land in
# ${CMAKE_CURRENT_BINARY_DIR}/gen-<name>/; <name>_GEN_DIR is set to it in the caller.
#
# The same file serves this tree and an installed AvA (find_package(ava), which
# sets the variables below to the installed pieces); whoever includes it sets:
#   AVA_AVAGEN            the avagen executable target (avagen, or ava::avagen)
#   AVA_SPEC_INCLUDE_DIR  the folder holding ava/spec.h, handed to avagen
#   AVA_GUESTLIB / AVA_APISERVER  the runtime library targets the two halves link
# AVA_API_DIR (where servers and manifests are collected for avarouterd)
# defaults to <build>/lib/ava/apis.
#
# This file also runs as a script (cmake -P) for the abi-<name> test.

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DGENERATED=... -DCOMMITTED=... -DNAME=... -DBUILD_DIR=... -P AvaApi.cmake
  if(NOT EXISTS "${COMMITTED}")
    message(FATAL_ERROR
      "${COMMITTED} does not exist. Create it from the generated manifest with\n"
      "  cmake --build ${BUILD_DIR} --target ava-update-abi-${NAME}\n"
      "and commit it.")
  endif()
  if(NOT EXISTS "${GENERATED}")
    message(FATAL_ERROR "${GENERATED} does not exist: build ava-server-${NAME} first")
  endif()
  file(READ "${GENERATED}" _generated)
  file(READ "${COMMITTED}" _committed)
  if(NOT _generated STREQUAL _committed)
    find_program(_diff diff)
    if(_diff)
      execute_process(COMMAND ${_diff} -u "${COMMITTED}" "${GENERATED}")
    endif()
    message(FATAL_ERROR
      "The ABI of ${NAME} changed: ${GENERATED} differs from the committed ${COMMITTED}.\n"
      "Guests and routers built from the old manifest will refuse to talk to the new one.\n"
      "If the change is intended, update the manifest with\n"
      "  cmake --build ${BUILD_DIR} --target ava-update-abi-${NAME}\n"
      "and commit it with the spec change.")
  endif()
  return()
endif()

include(GNUInstallDirs)
set(AVA_API_CMAKE_FILE ${CMAKE_CURRENT_LIST_FILE})
set(AVA_SYMBOL_VERSIONS_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/AvaSymbolVersions.cmake)
foreach(var AVA_AVAGEN AVA_SPEC_INCLUDE_DIR AVA_GUESTLIB AVA_APISERVER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "AvaApi.cmake: set ${var} before including it (or use find_package(ava))")
  endif()
endforeach()
if(NOT AVA_API_DIR)
  set(AVA_API_DIR ${CMAKE_BINARY_DIR}/lib/ava/apis)
endif()
file(MAKE_DIRECTORY ${AVA_API_DIR})

function(ava_add_api)
  cmake_parse_arguments(PARSE_ARGV 0 A "" "NAME;SPEC;ABI;SYMBOL_VERSIONS_FROM"
    "INCLUDES;LIBRARIES;SONAMES;DEFINES;GUEST_SOURCES;SERVER_SOURCES")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ava_add_api: unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_NAME OR NOT A_SPEC)
    message(FATAL_ERROR "ava_add_api: NAME and SPEC are required")
  endif()
  if(NOT A_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "ava_add_api: NAME '${A_NAME}' must be the spec's ava_identifier")
  endif()
  get_filename_component(spec ${A_SPEC} ABSOLUTE)
  get_filename_component(spec_dir ${spec} DIRECTORY)
  if(NOT A_ABI)
    set(A_ABI ${spec_dir}/${A_NAME}.abi)
  endif()

  set(name ${A_NAME})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/gen-${name})
  set(guest_c ${gen}/${name}_guest.c)
  set(server_c ${gen}/${name}_server.c)
  set(abi ${gen}/${name}.abi)
  set(map ${gen}/${name}.map)
  set(header ${gen}/ava_${name}.h) # for the API's hand code: ids, typed arguments, ops tables
  set(flags)
  foreach(dir IN LISTS A_INCLUDES)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND flags -I ${dir})
  endforeach()
  foreach(def IN LISTS A_DEFINES)
    list(APPEND flags -D ${def})
  endforeach()
  # Banners name the spec relative to the calling project (deterministic output).
  file(RELATIVE_PATH spec_rel ${PROJECT_SOURCE_DIR} ${spec})

  # The generated files have one owner, ava-gen-<name>: the targets that read
  # them (the guest library, the server, the manifest copies) depend on it, so
  # avagen runs once per build with every generator. The Makefile generator
  # still writes the rule into each reader's build.make, and avagen leaves a
  # file it would rewrite unchanged untouched (so Ninja, which re-stats, skips
  # the recompiles); with make the outputs are touched so that the readers see
  # them up to date instead of running avagen again.
  set(outputs ${guest_c} ${server_c} ${abi} ${map} ${header})
  set(touch)
  if(CMAKE_GENERATOR MATCHES "Makefiles")
    set(touch COMMAND ${CMAKE_COMMAND} -E touch_nocreate ${outputs})
  endif()
  file(MAKE_DIRECTORY ${gen})
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${AVA_AVAGEN} -o ${gen} --source-root ${PROJECT_SOURCE_DIR}
            --spec-include ${AVA_SPEC_INCLUDE_DIR} --depfile ${gen}/${name}.d ${flags} ${spec}
    ${touch}
    DEPENDS ${spec} ${AVA_AVAGEN} ${AVA_SPEC_INCLUDE_DIR}/ava/spec.h
    DEPFILE ${gen}/${name}.d
    COMMENT "avagen: generating the ${name} stubs and server from ${spec_rel}"
    VERBATIM)
  # With SYMBOL_VERSIONS_FROM, the guest library's symbols take the versions
  # the vendor library gives them (applications ask for clX@OPENCL_1.0).
  if(A_SYMBOL_VERSIONS_FROM)
    set(flat_map ${map})
    set(map ${gen}/${name}.versioned.map)
    add_custom_command(
      OUTPUT ${map}
      COMMAND ${CMAKE_COMMAND} -DMAP=${flat_map} -DLIB=${A_SYMBOL_VERSIONS_FROM}
              -DOBJDUMP=${CMAKE_OBJDUMP} -DOUT=${map} -P ${AVA_SYMBOL_VERSIONS_SCRIPT}
      DEPENDS ${flat_map} ${A_SYMBOL_VERSIONS_FROM} ${AVA_SYMBOL_VERSIONS_SCRIPT}
      COMMENT "Versioning the ${name} guest symbols like ${A_SYMBOL_VERSIONS_FROM}"
      VERBATIM)
  endif()
  add_custom_target(ava-gen-${name} DEPENDS ${outputs} ${map})

  set(warnings)
  if(TARGET ava::warnings)
    set(warnings ava::warnings)
  endif()

  # Guest library: hidden by default, the version script exports the API.
  set(guest_dir ${CMAKE_BINARY_DIR}/lib/ava/guest/${name})
  add_library(ava-guest-${name} SHARED ${guest_c} ${A_GUEST_SOURCES})
  add_dependencies(ava-guest-${name} ava-gen-${name})
  target_include_directories(ava-guest-${name} PRIVATE ${A_INCLUDES} ${spec_dir}
    ${AVA_SPEC_INCLUDE_DIR} ${gen})
  target_link_libraries(ava-guest-${name} PRIVATE ${AVA_GUESTLIB} ${warnings})
  # -Bsymbolic: the library's references to its own functions (an ICD
  # dispatch table) stay its own when a loader defines the same names first.
  target_link_options(ava-guest-${name} PRIVATE -Wl,--version-script=${map} -Wl,-Bsymbolic)
  # Catch missing symbols at link time; not under the sanitizers, whose
  # runtime lives in the executable that loads the library.
  if(NOT AVA_SANITIZE)
    target_link_options(ava-guest-${name} PRIVATE -Wl,--no-undefined)
  endif()
  set_target_properties(ava-guest-${name} PROPERTIES
    OUTPUT_NAME ava-guest-${name}
    LIBRARY_OUTPUT_DIRECTORY ${guest_dir}
    C_VISIBILITY_PRESET hidden
    LINK_DEPENDS ${map})
  foreach(soname IN LISTS A_SONAMES)
    add_custom_command(TARGET ava-guest-${name} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -E create_symlink libava-guest-${name}.so ${guest_dir}/${soname}
      VERBATIM)
  endforeach()

  # API server and its manifest, where avarouterd looks for them.
  add_executable(ava-server-${name} ${server_c} ${A_SERVER_SOURCES})
  add_dependencies(ava-server-${name} ava-gen-${name})
  target_include_directories(ava-server-${name} PRIVATE ${A_INCLUDES} ${spec_dir}
    ${AVA_SPEC_INCLUDE_DIR} ${gen})
  target_link_libraries(ava-server-${name} PRIVATE ${AVA_APISERVER} ${A_LIBRARIES} ${warnings})
  set_target_properties(ava-server-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${AVA_API_DIR})
  if(AVA_SANITIZE AND AVA_SERVER_SANITIZE_SOURCES)
    # Vendor libraries replace ASan's per-thread signal stacks (apiserver/asan-options.c).
    target_sources(ava-server-${name} PRIVATE ${AVA_SERVER_SANITIZE_SOURCES})
  endif()
  add_custom_command(
    OUTPUT ${AVA_API_DIR}/${name}.abi
    COMMAND ${CMAKE_COMMAND} -E copy ${abi} ${AVA_API_DIR}/${name}.abi
    DEPENDS ${abi}
    VERBATIM)
  add_custom_target(ava-abi-${name} ALL DEPENDS ${AVA_API_DIR}/${name}.abi)
  add_dependencies(ava-abi-${name} ava-gen-${name})
  add_dependencies(ava-server-${name} ava-abi-${name})

  # The committed manifest: a test that it is current, and a target to update it.
  add_custom_target(ava-update-abi-${name}
    COMMAND ${CMAKE_COMMAND} -E copy ${abi} ${A_ABI}
    DEPENDS ${abi}
    COMMENT "Updating ${A_ABI} from the spec; commit it with the spec change"
    VERBATIM)
  add_dependencies(ava-update-abi-${name} ava-gen-${name})
  add_test(NAME abi-${name}
    COMMAND ${CMAKE_COMMAND} -DGENERATED=${abi} -DCOMMITTED=${A_ABI} -DNAME=${name}
            -DBUILD_DIR=${CMAKE_BINARY_DIR} -P ${AVA_API_CMAKE_FILE})

  install(TARGETS ava-guest-${name}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/ava/guest/${name})
  foreach(soname IN LISTS A_SONAMES)
    install(CODE "
      set(_dir \"\$ENV{DESTDIR}${CMAKE_INSTALL_FULL_LIBDIR}/ava/guest/${name}\")
      message(STATUS \"Installing: \${_dir}/${soname} -> libava-guest-${name}.so\")
      execute_process(COMMAND \"${CMAKE_COMMAND}\" -E create_symlink
        libava-guest-${name}.so \"\${_dir}/${soname}\")")
  endforeach()
  install(TARGETS ava-server-${name} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBDIR}/ava/apis)
  install(FILES ${abi} DESTINATION ${CMAKE_INSTALL_LIBDIR}/ava/apis)

  set(${name}_GEN_DIR ${gen} PARENT_SCOPE)
endfunction()
