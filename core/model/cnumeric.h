/*
 * cnumeric.h - numbers written to or read from a file are C-locale decimals whatever the
 * process's locale (QGIS and other Qt programs run with the user's, where 412.5 prints as
 * "412,5"): begin/end switch the calling thread to the C numeric locale and back.
 * Needs POSIX 2008 (locale_t); defined in meta.c.
 */
#ifndef HINER_CNUMERIC_H
#define HINER_CNUMERIC_H

#include <locale.h>

#include "../internal.h"

typedef struct c_numeric {
    locale_t c, old;
} c_numeric;

HN_HIDDEN void c_numeric_begin(c_numeric *n);
HN_HIDDEN void c_numeric_end(c_numeric *n);

#endif
