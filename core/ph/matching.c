/* matching.c — matchings between diagrams (see matching.h). */
#include "ph/matching.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ts_matching_init(TsMatching *m) { memset(m, 0, sizeof *m); }

void ts_matching_clear(TsMatching *m) {
  free(m->edges);
  ts_matching_init(m);
}

TsStatus ts_matching_add(TsMatching *m, int64_t a, int64_t b, double cost, TsError *err) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    TsMatchEdge *e = realloc(m->edges, cap * sizeof *e);
    if (!e) return ts_error_set(err, TS_ERR_NOMEM, "matching: cannot hold %zu edges", cap);
    m->edges = e;
    m->cap = cap;
  }
  m->edges[m->n++] = (TsMatchEdge){.a = a, .b = b, .cost = cost};
  return TS_OK;
}

static void put_point(FILE *f, const TsDiagram *d, int64_t i) {
  if (i < 0) {
    fputs(",,", f);
    return;
  }
  fprintf(f, ",%.17g,%.17g", d->pairs[i].birth, d->pairs[i].death);
}

TsStatus ts_matching_write_csv(const char *path, const TsMatching *m, const TsDiagram *a, const TsDiagram *b,
                               TsError *err) {
  FILE *f = fopen(path, "w");
  if (!f) return ts_error_errno(err, errno, "cannot write '%s'", path);
  fputs("dim,a,b,a_birth,a_death,b_birth,b_death,cost\n", f);
  for (size_t i = 0; i < m->n; i++) {
    const TsMatchEdge *e = &m->edges[i];
    int dim = e->a >= 0 ? a->pairs[e->a].dim : e->b >= 0 ? b->pairs[e->b].dim : -1;
    fprintf(f, "%d,%lld,%lld", dim, (long long)e->a, (long long)e->b);
    put_point(f, a, e->a);
    put_point(f, b, e->b);
    fprintf(f, ",%.17g\n", e->cost);
  }
  if (ferror(f) | fclose(f)) return ts_error_set(err, TS_ERR_IO, "cannot write '%s': write error", path);
  return TS_OK;
}

static const TsDiagram *sort_diagram;
static int cmp_birth(const void *x, const void *y) {
  double a = sort_diagram->pairs[*(const int64_t *)x].birth, b = sort_diagram->pairs[*(const int64_t *)y].birth;
  return a < b ? -1 : a > b;
}

TsStatus ts_match_side_init(TsMatchSide *s, const TsDiagram *d, int dim, int side, TsMatching *m, TsError *err) {
  memset(s, 0, sizeof *s);
  size_t nf = 0, ne = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if (p->dim != dim) continue;
    if (isinf(p->death)) ne++;
    else if (p->death != p->birth) nf++;
  }
  s->xy = ts_alloc_array(2 * nf + 1, sizeof *s->xy, "matching", err);
  s->idx = ts_alloc_array(nf + 1, sizeof *s->idx, "matching", err);
  s->ess = ts_alloc_array(ne + 1, sizeof *s->ess, "matching", err);
  if (!s->xy || !s->idx || !s->ess) {
    ts_match_side_clear(s);
    return TS_ERR_NOMEM;
  }
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if (p->dim != dim) continue;
    if (isinf(p->death)) s->ess[s->ness++] = (int64_t)i;
    else if (p->death != p->birth) {
      s->xy[2 * s->n] = p->birth;
      s->xy[2 * s->n + 1] = p->death;
      s->idx[s->n++] = (int64_t)i;
    } else if (m) {
      TsStatus st = ts_matching_add(m, side ? -1 : (int64_t)i, side ? (int64_t)i : -1, 0, err);
      if (st) {
        ts_match_side_clear(s);
        return st;
      }
    }
  }
  /* one thread at a time sorts: qsort has no context argument in C11 */
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  sort_diagram = d;
  qsort(s->ess, s->ness, sizeof *s->ess, cmp_birth);
  pthread_mutex_unlock(&lock);
  return TS_OK;
}

void ts_match_side_clear(TsMatchSide *s) {
  free(s->xy);
  free(s->idx);
  free(s->ess);
  memset(s, 0, sizeof *s);
}

int ts_match_maxdim(const TsDiagram *a, const TsDiagram *b) {
  int m = -1;
  for (size_t i = 0; i < a->n; i++)
    if (a->pairs[i].dim > m) m = a->pairs[i].dim;
  for (size_t i = 0; i < b->n; i++)
    if (b->pairs[i].dim > m) m = b->pairs[i].dim;
  return m;
}
