/* preload_modules.h - the loaded modules: own-code lookup for the stack walk, and the map saved in the capture. */
#ifndef LEAKLAB_PRELOAD_MODULES_H
#define LEAKLAB_PRELOAD_MODULES_H
/*
 * Contract: the lookups (ll__pl_ip_is_code, ll__pl_ip_is_own) take no lock and never allocate
 * through malloc (tables are mmap'd), so the allocation hooks may call them; the rest runs under
 * the recursion guard. Calls only preload_state and the capture writer
 * (see there for the modules' order).
 */
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* Record every loaded module (union over the run: modules later dlclose'd stay listed). */
void ll__pl_modules_refresh(void);
/* 1 when ip lies in the program's own code (not a system library, not leaklab), 0 otherwise;
 * an address in no known module triggers one refresh (new dlopen'd code) before answering. */
int ll__pl_ip_is_own(uintptr_t ip);
/* 1 when ip lies in the code of a module known now (no refresh: the stack walk's sanity check). */
int ll__pl_ip_is_code(uintptr_t ip);
/* The MODULES section's encoded bytes (valid until the next call); 0 or LL_ENOMEM.
 * _encode uses what is known (crash path: never takes the loader's lock); _snapshot refreshes
 * first (normal end). */
int ll__pl_modules_encode(const void **data, size_t *len);
int ll__pl_modules_snapshot(const void **data, size_t *len);
/* 1 when the main program is a Go binary (its Go build-id note, ".note.go.buildid", is mapped):
 * Go's runtime ends the process with a raw exit_group system call, past every hook of ours. */
int ll__pl_main_is_go(void);

#pragma GCC visibility pop

#endif
