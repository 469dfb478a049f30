/* strlist.h — a growable list of owned strings, and folder listings.
 *
 * Commands and datasets that walk folders (label, image-folder datasets)
 * list entries in sorted order, so results do not depend on the order the
 * filesystem returns them in. */
#ifndef TS_BASE_STRLIST_H
#define TS_BASE_STRLIST_H

#include <stddef.h>

#include "base/error.h"

typedef struct TsStrList {
  char **v; /* owned strings */
  size_t n, cap;
} TsStrList;

/* Appends a copy of s; 0 on success, -1 when out of memory. */
int ts_strlist_add(TsStrList *l, const char *s);
void ts_strlist_sort(TsStrList *l);
/* Frees every string and the array; the list is empty and reusable. */
void ts_strlist_clear(TsStrList *l);

/* The names in folder dir, sorted, without those starting with '.' (".",
 * "..", hidden files, partial writes). out is cleared first. */
TsStatus ts_list_dir(const char *dir, TsStrList *out, TsError *err);

#endif
