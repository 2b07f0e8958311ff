# expect_challenge.cmake - run the method_cache challenge test on one variant: a fix passes every test; leaky and value_keyed pass the correctness tests and fail only the 70 MiB budget, with memray's text.
# cmake -DPROG=... -DVARIANT=... -DEXPECT=pass|fail -P expect_challenge.cmake
execute_process(COMMAND ${PROG} ${VARIANT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0 OR NOT out MATCHES "\\[  PASSED  \\] 4 test\\(s\\)\\.")
    message(FATAL_ERROR "${VARIANT}: expected every test to pass (exit ${rc}):\n${out}")
  endif()
elseif(EXPECT STREQUAL "fail")
  if(rc EQUAL 0
     OR NOT out MATCHES "\\[  PASSED  \\] 3 test\\(s\\)\\."
     OR NOT out MATCHES "\\[  FAILED  \\] 1 test\\(s\\), listed below:[\r\n]+\\[  FAILED  \\] test_peak_below_70MiB"
     OR NOT out MATCHES "Test was limited to 70\\.0MiB but allocated [0-9.]+MiB")
    message(FATAL_ERROR "${VARIANT}: expected only the 70 MiB budget to fail (exit ${rc}):\n${out}")
  endif()
else()
  message(FATAL_ERROR "EXPECT must be pass or fail, not '${EXPECT}'")
endif()
message(STATUS "${VARIANT}: ${EXPECT}ed as expected")
