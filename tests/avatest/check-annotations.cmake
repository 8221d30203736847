# Fails unless a spec (with, for a few annotations, a second one) uses every
# annotation of the spec language, so that a new annotation cannot land
# without a test:
#
#   cmake -DSPEC_H=include/ava/spec.h -DSPEC=spec/avatest.spec
#         [-DICD_SPEC=spec/avatest_icd.spec] -P check-annotations.cmake
#
# With ICD_SPEC (avatest), the annotations listed below must be in ICD_SPEC
# instead of SPEC; without it (tests/codegen/specs/mini.spec), all must be in
# SPEC. The annotations are the lower-case macros spec.h defines
# (#define ava_...); a use is the name as a word outside comments.

cmake_minimum_required(VERSION 3.25)

# Annotations spec/avatest.spec cannot use, each with why: they are used in
# ICD_SPEC instead. Each must still be an annotation of spec.h.
set(elsewhere)
if(ICD_SPEC)
  set(elsewhere
    # Proxies are API-wide, and avatest's handles are checked to be tokens
    # (avatest-remote-only): the ICD-style API avatest_icd has them.
    ava_handle_proxy
    # The proxies' table, generated: only with ava_handle_proxy.
    ava_handle_proxy_table
    # What the proxies' guest source defines besides the API: avatest_icd too.
    ava_guest_export)
endif()

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

read_code("${SPEC}" spec_code)
if(ICD_SPEC)
  read_code("${ICD_SPEC}" icd_code)
endif()
set(missing)
set(skip)
set(n_elsewhere 0)
foreach(name IN LISTS elsewhere)
  if(NOT name IN_LIST annotations)
    message(FATAL_ERROR "${name} is excluded here but is no annotation of ${SPEC_H}: "
      "drop it from the list in ${CMAKE_CURRENT_LIST_FILE}")
  endif()
  uses("${icd_code}" ${name} used)
  if(NOT used)
    list(APPEND missing "${name} (expected in ${ICD_SPEC})")
  endif()
  list(APPEND skip ${name})
  math(EXPR n_elsewhere "${n_elsewhere} + 1")
endforeach()
foreach(name IN LISTS annotations)
  if(name IN_LIST skip)
    continue()
  endif()
  uses("${spec_code}" ${name} used)
  if(NOT used)
    list(APPEND missing "${name} (expected in ${SPEC})")
  endif()
endforeach()
if(missing)
  list(JOIN missing "\n  " text)
  message(FATAL_ERROR "annotations of ${SPEC_H} that no spec here uses, so nothing tests "
    "them:\n  ${text}\nUse each, with a check that exercises it (for avatest: in "
    "tests/avatest/avatest-features.c, run native and remoted).")
endif()
math(EXPR n_here "${n} - ${n_elsewhere}")
if(ICD_SPEC)
  message(STATUS "all ${n} annotations of ${SPEC_H} are used: ${n_here} in ${SPEC}, "
    "${n_elsewhere} in ${ICD_SPEC}")
else()
  message(STATUS "all ${n} annotations of ${SPEC_H} are used in ${SPEC}")
endif()
