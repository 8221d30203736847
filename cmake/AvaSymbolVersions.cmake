# cmake -P script: turns avagen's flat version script into one whose symbols
# carry the same versions as the vendor library's (e.g. clGetPlatformIDs@OPENCL_1.0),
# so programs linked against the vendor library bind to the guest stubs without
# "no version information available" warnings, and with the versions they ask for.
#
#   cmake -DMAP=<avagen .map> -DLIB=<vendor library> -DOBJDUMP=<objdump> -DOUT=<file> -P this
foreach(var MAP LIB OBJDUMP OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "AvaSymbolVersions: ${var} is required")
  endif()
endforeach()

# The API's functions, from avagen's map ("\tname;" lines under global:).
file(STRINGS ${MAP} map_lines)
set(funcs)
foreach(line IN LISTS map_lines)
  if(line MATCHES "^[ \t]+([A-Za-z_][A-Za-z0-9_]*);$")
    list(APPEND funcs ${CMAKE_MATCH_1})
  endif()
endforeach()

execute_process(COMMAND ${OBJDUMP} -T ${LIB} OUTPUT_VARIABLE dump RESULT_VARIABLE rc
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "AvaSymbolVersions: ${OBJDUMP} -T ${LIB} failed: ${err}")
endif()
string(REPLACE "\n" ";" dump_lines "${dump}")
set(versions)
foreach(line IN LISTS dump_lines)
  # "... DF .text  000000000000003a  OPENCL_1.0  clBuildProgram"
  # Only symbols the library defines (imports are "*UND*").
  if(NOT line MATCHES "\\*UND\\*" AND
     line MATCHES "[ \t]\\(?([A-Za-z_][A-Za-z0-9_.]*)\\)?[ \t]+([A-Za-z_][A-Za-z0-9_]*)$")
    set(ver ${CMAKE_MATCH_1})
    set(sym ${CMAKE_MATCH_2})
    if(NOT ver STREQUAL sym AND ver MATCHES "[0-9]")
      list(APPEND versions ${ver})
      set(version_of_${sym} ${ver})
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES versions)
list(SORT versions COMPARE NATURAL)
if(NOT versions)
  # An unversioned vendor library: keep avagen's map as it is.
  configure_file(${MAP} ${OUT} COPYONLY)
  return()
endif()
list(GET versions 0 first)

set(text "/* Generated from ${MAP} and the symbol versions of ${LIB}; do not edit. */\n")
set(prev "")
foreach(ver IN LISTS versions)
  set(body "")
  foreach(f IN LISTS funcs)
    set(v ${version_of_${f}})
    if(NOT v)
      set(v ${first}) # not in the vendor library: the oldest version
    endif()
    if(v STREQUAL ver)
      string(APPEND body "\t${f};\n")
    endif()
  endforeach()
  if(NOT body AND NOT ver STREQUAL first)
    continue() # a version none of the API's functions has
  endif()
  string(APPEND text "${ver} {\nglobal:\n${body}")
  if(ver STREQUAL first)
    string(APPEND text "local:\n\t*;\n};\n")
  else()
    string(APPEND text "} ${prev};\n")
  endif()
  set(prev ${ver})
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(RENAME ${OUT}.tmp ${OUT})
