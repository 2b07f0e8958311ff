# expect_snapshot_steps.cmake - the snapshot exercise prints, per design, what 1000 objects add between two snapshots: the lesson's bytes and blocks per object (208 B in 4, 80 B in 3, 16 B in 1) and each allocating line, exactly.
# cmake -DPROG=.../snapshot_steps -P expect_snapshot_steps.cmake
execute_process(COMMAND ${PROG} 1000 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit status ${rc}: ${err}")
endif()
# Paths as the compiler saw them: keep the file name only.
string(REGEX REPLACE "[^\n]*/slots_vs_dict\\.c:" "slots_vs_dict.c:" got "${out}")
set(want "[ dict: 1000 objects made between the two snapshots: +208000 B in +4000 blocks ]
slots_vs_dict.c:114: size=133 KiB (+133 KiB), count=1000 (+1000), average=136 B
slots_vs_dict.c:89: size=46.9 KiB (+46.9 KiB), count=2000 (+2000), average=24 B
slots_vs_dict.c:215: size=23.4 KiB (+23.4 KiB), count=1000 (+1000), average=24 B

[ slots: 1000 objects made between the two snapshots: +80000 B in +3000 blocks ]
slots_vs_dict.c:89: size=46.9 KiB (+46.9 KiB), count=2000 (+2000), average=24 B
slots_vs_dict.c:224: size=31.2 KiB (+31.2 KiB), count=1000 (+1000), average=32 B

[ struct: 1000 objects made between the two snapshots: +16000 B in +1000 blocks ]
slots_vs_dict.c:234: size=15.6 KiB (+15.6 KiB), count=1000 (+1000), average=16 B
")
if(NOT got STREQUAL want)
  message(FATAL_ERROR "snapshot_steps 1000 printed:\n${got}\nexpected:\n${want}")
endif()
