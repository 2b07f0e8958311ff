# expect_same_lines.cmake - run PROG --variant V --scale SCALE for each of VARIANTS; pass when
# every run exits 0 and the stdout lines matching the regex LINES are the same for all of them
# (lessons that also print per-variant figures compare only their result lines).
set(first "")
foreach(v ${VARIANTS})
  execute_process(COMMAND ${PROG} --variant ${v} --scale ${SCALE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${v}: exit status ${rc}: ${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  list(FILTER lines INCLUDE REGEX "${LINES}")
  if(NOT lines)
    message(FATAL_ERROR "${v}: no line matches '${LINES}' in:\n${out}")
  endif()
  if(first STREQUAL "")
    set(first "${lines}")
    set(first_variant ${v})
  elseif(NOT lines STREQUAL first)
    message(FATAL_ERROR "${v} printed\n${lines}\nbut ${first_variant} printed\n${first}")
  endif()
endforeach()
message(STATUS "all variants printed:\n${first}")
