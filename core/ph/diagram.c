#include "ph/diagram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ts_diagram_init(TsDiagram *d) { memset(d, 0, sizeof *d); }

void ts_diagram_clear(TsDiagram *d) {
  free(d->pairs);
  ts_diagram_init(d);
}

TsStatus ts_diagram_reserve(TsDiagram *d, size_t cap, TsError *err) {
  if (cap <= d->cap) return TS_OK;
  size_t bytes;
  if (ts_mul_size(cap, sizeof *d->pairs, &bytes) != 0)
    return ts_error_set(err, TS_ERR_NOMEM, "diagram: %zu pairs overflow", cap);
  TsPair *p = realloc(d->pairs, bytes);
  if (!p) return ts_error_set(err, TS_ERR_NOMEM, "diagram: cannot hold %zu pairs", cap);
  d->pairs = p;
  d->cap = cap;
  return TS_OK;
}

TsStatus ts_diagram_push(TsDiagram *d, const TsPair *p, TsError *err) {
  if (d->n == d->cap) {
    TsStatus st = ts_diagram_reserve(d, d->cap ? d->cap * 2 : 64, err);
    if (st) return st;
  }
  d->pairs[d->n++] = *p;
  if (p->dim > d->maxdim) d->maxdim = p->dim;
  return TS_OK;
}

TsStatus ts_diagram_add(TsDiagram *d, int dim, double birth, double death, TsError *err) {
  TsPair p = {.birth = birth, .death = death, .dim = dim};
  for (int k = 0; k < 4; k++) p.birth_at[k] = p.death_at[k] = -1;
  return ts_diagram_push(d, &p, err);
}

size_t ts_diagram_count(const TsDiagram *d, int dim) {
  size_t c = 0;
  for (size_t i = 0; i < d->n; i++) c += d->pairs[i].dim == dim;
  return c;
}

size_t ts_diagram_count_essential(const TsDiagram *d, int dim) {
  size_t c = 0;
  for (size_t i = 0; i < d->n; i++) c += d->pairs[i].dim == dim && isinf(d->pairs[i].death);
  return c;
}

static int cmp_pair(const void *a, const void *b) {
  const TsPair *x = a, *y = b;
  if (x->dim != y->dim) return x->dim < y->dim ? -1 : 1;
  if (x->birth != y->birth) return x->birth < y->birth ? -1 : 1;
  if (x->death != y->death) return x->death < y->death ? -1 : 1;
  return 0;
}

void ts_diagram_sort(TsDiagram *d) {
  if (d->n > 1) qsort(d->pairs, d->n, sizeof *d->pairs, cmp_pair);
}

void ts_diagram_filter_persistence(TsDiagram *d, double min_persistence) {
  size_t o = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if (isinf(p->death) || p->death - p->birth > min_persistence) d->pairs[o++] = *p;
  }
  d->n = o;
}

TsStatus ts_diagram_copy(TsDiagram *dst, const TsDiagram *src, TsError *err) {
  ts_diagram_init(dst);
  TsStatus st = ts_diagram_reserve(dst, src->n, err);
  if (st) return st;
  if (src->n) memcpy(dst->pairs, src->pairs, src->n * sizeof *src->pairs);
  dst->n = src->n;
  dst->loc = src->loc;
  dst->maxdim = src->maxdim;
  return TS_OK;
}
