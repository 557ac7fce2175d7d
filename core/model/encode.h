/*
 * encode.h - the encoder's pipeline (encode.c), which every encode entry point runs: a cube
 * and its metadata to a finished .hiner file in memory.
 */
#ifndef HINER_ENCODE_H
#define HINER_ENCODE_H

#include "fileio.h"

/* The whole file into `file` (initialised by the caller, who frees it on any status); rep,
 * when not NULL, gets what the encoder did. */
HN_HIDDEN hiner_status hn_encode_to_buf(const hiner_cube *cube, const hiner_meta *meta,
                                        const hiner_params *p, hn_buf *file,
                                        hiner_encode_report *rep);

#endif
