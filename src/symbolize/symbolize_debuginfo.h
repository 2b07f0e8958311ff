/* symbolize_debuginfo.h - internal: the symboliser's find_debuginfo callback for libdw, which never opens a FIFO or a device. */
#ifndef LEAKLAB_SYMBOLIZE_DEBUGINFO_H
#define LEAKLAB_SYMBOLIZE_DEBUGINFO_H
/*
 * Contract: ll__find_debuginfo is a Dwfl_Callbacks.find_debuginfo. It answers as
 * dwfl_standard_find_debuginfo does (a descriptor of the module's separate debug file, or -1),
 * except that it returns -1 without opening anything when a path that search could open exists
 * and is not a regular file or a directory (a FIFO would block the open forever). Thread-safe
 * as libdw's own; allocates only through realpath.
 */
#include <elfutils/libdwfl.h>

int ll__find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                       const char *file_name, const char *debuglink_file,
                       GElf_Word debuglink_crc, char **debuginfo_file_name);

#endif
