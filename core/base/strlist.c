#include "base/strlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ts_strlist_add(TsStrList *l, const char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s))) return -1;
  l->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void ts_strlist_sort(TsStrList *l) {
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

void ts_strlist_clear(TsStrList *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

TsStatus ts_list_dir(const char *dir, TsStrList *out, TsError *err) {
  ts_strlist_clear(out);
  DIR *d = opendir(dir);
  if (!d) return ts_error_errno(err, errno, "cannot read the folder '%s'", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    if (ts_strlist_add(out, e->d_name) != 0) {
      closedir(d);
      ts_strlist_clear(out);
      return ts_error_set(err, TS_ERR_NOMEM, "out of memory listing '%s'", dir);
    }
  }
  closedir(d);
  ts_strlist_sort(out);
  return TS_OK;
}
