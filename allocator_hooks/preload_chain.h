/* preload_chain.h - the process's exec chain: earlier images from the environment, this one's summary, the PROCESS section. */
#ifndef LEAKLAB_PRELOAD_CHAIN_H
#define LEAKLAB_PRELOAD_CHAIN_H
/*
 * Contract: an image that execs while recording hands its successor a summary of every image so
 * far (LEAKLAB_CHAIN); the successor lists them in its capture's PROCESS section, oldest first,
 * itself last. Encoding for an exec allocates nothing (a vfork child runs it on its parent's
 * memory). Calls only the engine and the capture writer
 * (see preload_state.h for the modules' order).
 */
#include <stddef.h>
#include <stdint.h>

#include "capture_format.h"

#pragma GCC visibility push(hidden) /* internal to the library (see preload_state.h) */

/* This image's command line (stages and snapshots show it). */
void ll__pl_chain_set_program(const char *program);
/* Earlier images of this process, parsed from LEAKLAB_CHAIN's value (NULL: none); a chain
 * written by another process than `pid` is ignored. */
void ll__pl_chain_load(const char *env_value, long pid);
/* The chain plus this image (its figures from the tracker) as LEAKLAB_CHAIN's value for the next
 * image, into buf (no malloc); returns the length, or -1 when it does not fit. */
int ll__pl_chain_encode_next(char *buf, size_t len, long pid);
/* The PROCESS section (valid until the next call; static storage): `facts` as given (its stages
 * are ignored), then the chain and this image, with this image's figures from the tracker
 * unless `partial` (the tracker cannot be read). Its length, or 0 when it does not fit. */
size_t ll__pl_chain_section(const ll_cap_process_t *facts, int partial, const void **data);

#pragma GCC visibility pop

#endif
