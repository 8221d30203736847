# Fails unless the avatest specs use every annotation of the spec language,
# so that a new annotation cannot land without a PoCL-free end-to-end test.
#
#   cmake -DSPEC_H=include/ava/spec.h -DAVATEST_SPEC=spec/avatest.spec
#         -DICD_SPEC=spec/avatest_icd.spec -P check-annotations.cmake
#
# The annotations are the lower-case macros spec.h defines (#define ava_...).
# A use is the name as a word outside comments.

cmake_minimum_required(VERSION 3.25)

# Annotations spec/avatest.spec cannot use, each with why, and where they are
# used instead. Each must still be an annotation of spec.h.
set(elsewhere
  # Proxies are API-wide, and avatest's handles are checked to be tokens
  # (avatest-remote-only): the ICD-style API avatest_icd has them.
  ava_handle_proxy ${ICD_SPEC}
  # What the proxies' guest source defines besides the API: avatest_icd too.
  ava_guest_export ${ICD_SPEC})

function(read_code path ret)
  file(READ "${path}" text)
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " text "${text}")
  string(REGEX REPLACE "//[^\n]*" " " text "${text}")
  set(${ret} "${text}" PARENT_SCOPE)
endfunction()

function(uses text name ret)
  if(text MATCHES "(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)")
    set(${ret} TRUE PARENT_SCOPE)
  else()
    set(${ret} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Matched in the whole text: file(STRINGS) would keep a line's trailing
# backslash, which escapes the list separator after it.
file(READ "${SPEC_H}" spec_h)
string(REGEX MATCHALL "\n#define[ \t]+ava_[a-z_]+" defines "${spec_h}")
set(annotations)
foreach(match IN LISTS defines)
  string(REGEX REPLACE "^\n#define[ \t]+" "" name "${match}")
  list(APPEND annotations ${name})
endforeach()
list(REMOVE_DUPLICATES annotations)
list(LENGTH annotations n)
if(n LESS 40)
  message(FATAL_ERROR "only ${n} annotations found in ${SPEC_H}: is the pattern out of date?")
endif()

read_code("${AVATEST_SPEC}" avatest_code)
set(missing)
set(n_elsewhere 0)
list(LENGTH elsewhere n_pairs)
math(EXPR last "${n_pairs} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET elsewhere ${i} name)
  list(GET elsewhere ${j} where)
  if(NOT name IN_LIST annotations)
    message(FATAL_ERROR "${name} is excluded here but is no annotation of ${SPEC_H}: "
      "drop it from the list in ${CMAKE_CURRENT_LIST_FILE}")
  endif()
  read_code("${where}" code)
  uses("${code}" ${name} used)
  if(NOT used)
    list(APPEND missing "${name} (expected in ${where})")
  endif()
  list(APPEND skip ${name})
  math(EXPR n_elsewhere "${n_elsewhere} + 1")
endforeach()
foreach(name IN LISTS annotations)
  if(name IN_LIST skip)
    continue()
  endif()
  uses("${avatest_code}" ${name} used)
  if(NOT used)
    list(APPEND missing "${name} (expected in ${AVATEST_SPEC})")
  endif()
endforeach()
if(missing)
  list(JOIN missing "\n  " text)
  message(FATAL_ERROR "annotations no avatest spec uses, so nothing tests them without "
    "OpenCL:\n  ${text}\nUse each in spec/avatest.spec, with a check in an avatest program "
    "(tests/avatest/avatest-features.c).")
endif()
math(EXPR n_here "${n} - ${n_elsewhere}")
message(STATUS "all ${n} annotations of ${SPEC_H} are used: ${n_here} in ${AVATEST_SPEC}, "
  "${n_elsewhere} in ${ICD_SPEC}")
