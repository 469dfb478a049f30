/* rips-input.c — the inputs of the Rips engine: distances between points
 * (five metrics, rows in parallel), and the file formats Ripser reads, with
 * errors that name the file, the line and the problem. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ph/rips.h"

int ts_rips_format_parse(const char *s) {
  if (!strcmp(s, "points") || !strcmp(s, "point-cloud")) return TS_RIPS_POINTS;
  if (!strcmp(s, "distance")) return TS_RIPS_DISTANCE;
  if (!strcmp(s, "lower-distance") || !strcmp(s, "lower")) return TS_RIPS_LOWER;
  if (!strcmp(s, "upper-distance") || !strcmp(s, "upper")) return TS_RIPS_UPPER;
  if (!strcmp(s, "sparse")) return TS_RIPS_SPARSE;
  if (!strcmp(s, "dipha")) return TS_RIPS_DIPHA;
  return -1;
}

static const char *metric_names[] = {"euclidean", "manhattan", "chebyshev", "cosine", "correlation"};

int ts_rips_metric_parse(const char *s) {
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, metric_names[i])) return i;
  return -1;
}

const char *ts_rips_metric_name(TsRipsMetric m) {
  return (unsigned)m < 5 ? metric_names[m] : "unknown";
}

void ts_rips_dist_init(TsRipsDist *d) { memset(d, 0, sizeof *d); }

void ts_rips_dist_clear(TsRipsDist *d) {
  free(d->lower);
  free(d->ei);
  free(d->ej);
  free(d->ed);
  ts_rips_dist_init(d);
}

static TsStatus alloc_lower(TsRipsDist *out, size_t n, TsError *err) {
  if (n > 2000000000u) return ts_error_set(err, TS_ERR_INVALID, "%zu points are too many", n);
  ts_rips_dist_init(out);
  size_t m = n * (n - 1) / 2;
  out->lower = ts_alloc_array(m ? m : 1, sizeof *out->lower, "distance matrix", err);
  if (!out->lower) return TS_ERR_NOMEM;
  out->n = (int32_t)n;
  return TS_OK;
}

/* ---- distances between points ---- */

typedef struct {
  const double *x; /* n x dim (normalised rows for cosine / correlation) */
  size_t dim;
  TsRipsMetric metric;
  float *lower;
} PointsCtx;

static void points_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PointsCtx *c = ctx;
  const size_t dim = c->dim;
  for (size_t i = b; i < e; i++) {
    if (i == 0) continue;
    const double *xi = c->x + i * dim;
    float *row = c->lower + i * (i - 1) / 2;
    for (size_t j = 0; j < i; j++) {
      const double *xj = c->x + j * dim;
      double s = 0.0;
      switch (c->metric) {
      case TS_RIPS_EUCLIDEAN:
        for (size_t k = 0; k < dim; k++) {
          double t = xi[k] - xj[k];
          s += t * t;
        }
        s = sqrt(s);
        break;
      case TS_RIPS_MANHATTAN:
        for (size_t k = 0; k < dim; k++) s += fabs(xi[k] - xj[k]);
        break;
      case TS_RIPS_CHEBYSHEV:
        for (size_t k = 0; k < dim; k++) {
          double t = fabs(xi[k] - xj[k]);
          if (t > s) s = t;
        }
        break;
      case TS_RIPS_COSINE:
        for (size_t k = 0; k < dim; k++) s += xi[k] * xj[k];
        s = 1.0 - s;
        if (s < 0) s = 0;
        break;
      case TS_RIPS_CORRELATION:
        for (size_t k = 0; k < dim; k++) s += xi[k] * xj[k];
        s = 1.0 - fabs(s);
        if (s < 0) s = 0;
        break;
      }
      row[j] = (float)s;
    }
  }
}

/* cosine and correlation: normalise the rows once, then a dot product */
static TsStatus normalise_rows(double *x, size_t n, size_t dim, TsRipsMetric metric, TsError *err) {
  {
    for (size_t i = 0; i < n; i++) {
      double *r = x + i * dim, mean = 0.0, ss = 0.0;
      if (metric == TS_RIPS_CORRELATION) {
        for (size_t k = 0; k < dim; k++) mean += r[k];
        mean /= (double)dim;
      }
      for (size_t k = 0; k < dim; k++) {
        r[k] -= mean;
        ss += r[k] * r[k];
      }
      if (ss == 0.0) {
        if (metric == TS_RIPS_COSINE)
          return ts_error_set(err, TS_ERR_INVALID, "row %zu is all zeros: its cosine distance is undefined", i + 1);
        /* a constant signal correlates with nothing (r = 0, as NaN -> 0) */
        continue;
      }
      double s = 1.0 / sqrt(ss);
      for (size_t k = 0; k < dim; k++) r[k] *= s;
    }
  }
  return TS_OK;
}

static TsStatus dist_from_rows(TsRipsDist *out, const double *x, size_t n, size_t dim, TsRipsMetric metric,
                               TsPool *pool, TsError *err) {
  TsStatus st = alloc_lower(out, n, err);
  if (st) return st;
  PointsCtx ctx = {x, dim, metric, out->lower};
  ts_pool_for(pool, n, 16, points_task, &ctx);
  return TS_OK;
}

static TsStatus check_points(size_t n, size_t dim, TsError *err) {
  if (n < 1) return ts_error_set(err, TS_ERR_INVALID, "no points");
  if (dim < 1) return ts_error_set(err, TS_ERR_INVALID, "points have no coordinates");
  return TS_OK;
}

TsStatus ts_rips_dist_from_points(TsRipsDist *out, const double *pts, size_t n, size_t dim,
                                  TsRipsMetric metric, TsPool *pool, TsError *err) {
  ts_rips_dist_init(out);
  TsStatus st = check_points(n, dim, err);
  if (st) return st;
  size_t m;
  if (ts_mul_size(n, dim, &m)) return ts_error_set(err, TS_ERR_NOMEM, "points: size overflow");
  for (size_t q = 0; q < m; q++)
    if (!isfinite(pts[q]))
      return ts_error_set(err, TS_ERR_INVALID, "point %zu, coordinate %zu is %s", q / dim + 1, q % dim + 1,
                          isnan(pts[q]) ? "NaN" : "infinite");
  if ((unsigned)metric > TS_RIPS_CORRELATION) return ts_error_set(err, TS_ERR_INVALID, "unknown metric %d", (int)metric);
  double *x = NULL;
  if (metric == TS_RIPS_COSINE || metric == TS_RIPS_CORRELATION) {
    x = ts_alloc_array(m, sizeof *x, "points", err);
    if (!x) return TS_ERR_NOMEM;
    memcpy(x, pts, m * sizeof *x);
    if ((st = normalise_rows(x, n, dim, metric, err))) {
      free(x);
      return st;
    }
  }
  st = dist_from_rows(out, x ? x : pts, n, dim, metric, pool, err);
  free(x);
  return st;
}

TsStatus ts_rips_dist_from_pointsf(TsRipsDist *out, const float *pts, size_t n, size_t dim,
                                   TsRipsMetric metric, TsPool *pool, TsError *err) {
  ts_rips_dist_init(out);
  TsStatus st = check_points(n, dim, err);
  if (st) return st;
  size_t m;
  if (ts_mul_size(n, dim, &m)) return ts_error_set(err, TS_ERR_NOMEM, "points: size overflow");
  double *x = ts_alloc_array(m, sizeof *x, "points", err);
  if (!x) return TS_ERR_NOMEM;
  for (size_t q = 0; q < m; q++) x[q] = pts[q];
  st = ts_rips_dist_from_points(out, x, n, dim, metric, pool, err);
  free(x);
  return st;
}

TsStatus ts_rips_dist_from_matrix(TsRipsDist *out, const double *mat, size_t n, TsError *err) {
  ts_rips_dist_init(out);
  if (n < 1) return ts_error_set(err, TS_ERR_INVALID, "empty distance matrix");
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      double a = mat[i * n + j], b = mat[j * n + i];
      if (isnan(a) || isnan(b))
        return ts_error_set(err, TS_ERR_INVALID, "distance matrix entry (%zu, %zu) is NaN", isnan(a) ? i : j,
                            isnan(a) ? j : i);
      if (a < 0 || b < 0)
        return ts_error_set(err, TS_ERR_INVALID, "distance matrix entry (%zu, %zu) = %g is negative", a < 0 ? i : j,
                            a < 0 ? j : i, a < 0 ? a : b);
      if (i == j && a != 0)
        return ts_error_set(err, TS_ERR_INVALID, "distance matrix diagonal entry (%zu, %zu) = %g is not 0", i, i, a);
      if (a != b && fabs(a - b) > 1e-6 * fmax(fabs(a), fabs(b)))
        return ts_error_set(err, TS_ERR_INVALID, "distance matrix is not symmetric: (%zu, %zu) = %g but (%zu, %zu) = %g",
                            i, j, a, j, i, b);
    }
  TsStatus st = alloc_lower(out, n, err);
  if (st) return st;
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++) out->lower[i * (i - 1) / 2 + j] = (float)mat[i * n + j];
  return TS_OK;
}

/* ---- text files ---- */

typedef struct {
  double *v;
  size_t n, cap;
  size_t *row_len; /* values per non-empty line */
  size_t *row_line;/* its line number */
  size_t rows, rows_cap;
} Table;

static void table_free(Table *t) {
  free(t->v);
  free(t->row_len);
  free(t->row_line);
}

static int is_sep(char c) { return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\r'; }

/* Reads every number of every line; blank lines and lines starting with '#'
 * are skipped. NaN, non-numbers and (unless allow_inf) infinities are errors. */
static TsStatus read_table(const char *path, int allow_inf, Table *t, TsError *err) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  char *line = NULL;
  size_t lcap = 0, lineno = 0;
  ssize_t len;
  TsStatus st = TS_OK;
  while ((len = getline(&line, &lcap, f)) >= 0) {
    lineno++;
    char *s = line;
    while (*s && (is_sep(*s) || *s == '\n')) s++;
    if (!*s || *s == '#') continue;
    size_t before = t->n;
    while (*s && *s != '\n') {
      if (is_sep(*s)) {
        s++;
        continue;
      }
      char *end;
      double x = strtod(s, &end);
      if (end == s || (*end && !is_sep(*end) && *end != '\n')) {
        char tok[32];
        size_t k = 0;
        while (s[k] && !is_sep(s[k]) && s[k] != '\n' && k < sizeof tok - 1) {
          tok[k] = s[k];
          k++;
        }
        tok[k] = 0;
        st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: '%s' is not a number", path, lineno, tok);
        goto done;
      }
      if (isnan(x)) {
        st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: value %zu is NaN", path, lineno, t->n - before + 1);
        goto done;
      }
      if (isinf(x) && !allow_inf) {
        st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: value %zu is infinite", path, lineno,
                          t->n - before + 1);
        goto done;
      }
      if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        double *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
          st = ts_error_set(err, TS_ERR_NOMEM, "'%s': out of memory", path);
          goto done;
        }
        t->v = v;
        t->cap = cap;
      }
      t->v[t->n++] = x;
      s = end;
    }
    if (t->rows == t->rows_cap) {
      size_t cap = t->rows_cap ? t->rows_cap * 2 : 256;
      size_t *a = realloc(t->row_len, cap * sizeof *a), *b = a ? realloc(t->row_line, cap * sizeof *b) : NULL;
      if (a) t->row_len = a;
      if (!a || !b) {
        st = ts_error_set(err, TS_ERR_NOMEM, "'%s': out of memory", path);
        goto done;
      }
      t->row_line = b;
      t->rows_cap = cap;
    }
    t->row_len[t->rows] = t->n - before;
    t->row_line[t->rows++] = lineno;
  }
  if (ferror(f)) st = ts_error_errno(err, errno, "cannot read '%s'", path);
done:
  free(line);
  fclose(f);
  if (st) table_free(t);
  return st;
}

TsStatus ts_rips_points_read(const char *path, double **pts, size_t *n, size_t *dim, TsError *err) {
  Table t;
  TsStatus st = read_table(path, 0, &t, err);
  if (st) return st;
  if (t.rows == 0) {
    table_free(&t);
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': no points", path);
  }
  for (size_t r = 1; r < t.rows; r++)
    if (t.row_len[r] != t.row_len[0]) {
      st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: %zu coordinates, but line %zu has %zu (ragged rows)",
                        path, t.row_line[r], t.row_len[r], t.row_line[0], t.row_len[0]);
      table_free(&t);
      return st;
    }
  *pts = t.v;
  *n = t.rows;
  *dim = t.row_len[0];
  t.v = NULL;
  table_free(&t);
  return TS_OK;
}

static TsStatus check_distance(const char *path, size_t lineno, double x, TsError *err) {
  if (x < 0) return ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: negative distance %g", path, lineno, x);
  return TS_OK;
}

static TsStatus read_triangle(const char *path, int upper, TsRipsDist *out, TsError *err) {
  Table t;
  TsStatus st = read_table(path, 1, &t, err);
  if (st) return st;
  /* n(n-1)/2 = m */
  size_t m = t.n;
  size_t n = (size_t)((1.0 + sqrt(1.0 + 8.0 * (double)m)) / 2.0 + 0.5);
  while (n > 1 && n * (n - 1) / 2 > m) n--;
  while ((n + 1) * n / 2 <= m) n++;
  if (n * (n - 1) / 2 != m) {
    st = ts_error_set(err, TS_ERR_FORMAT,
                      "'%s': %zu values is not a triangle n(n-1)/2 (between n = %zu and n = %zu points)", path, m,
                      n, n + 1);
    goto done;
  }
  {
    size_t r = 0, used = 0;
    for (size_t q = 0; q < m; q++) {
      while (r < t.rows && used == t.row_len[r]) {
        r++;
        used = 0;
      }
      used++;
      if ((st = check_distance(path, t.row_line[r], t.v[q], err))) goto done;
    }
  }
  if ((st = alloc_lower(out, n, err))) goto done;
  if (!upper) {
    for (size_t q = 0; q < m; q++) out->lower[q] = (float)t.v[q];
  } else {
    size_t q = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) out->lower[j * (j - 1) / 2 + i] = (float)t.v[q++];
  }
done:
  table_free(&t);
  return st;
}

static TsStatus read_full(const char *path, TsRipsDist *out, TsError *err) {
  Table t;
  TsStatus st = read_table(path, 1, &t, err);
  if (st) return st;
  size_t n = t.rows;
  if (n == 0) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': empty distance matrix", path);
    goto done;
  }
  for (size_t r = 0; r < n; r++)
    if (t.row_len[r] != n) {
      st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: %zu values in a matrix of %zu rows (not square)", path,
                        t.row_line[r], t.row_len[r], n);
      goto done;
    }
  for (size_t r = 0; r < n; r++)
    for (size_t c = 0; c < n; c++)
      if ((st = check_distance(path, t.row_line[r], t.v[r * n + c], err))) goto done;
  st = ts_rips_dist_from_matrix(out, t.v, n, err);
  if (st) ts_error_prefix(err, "'%s'", path);
done:
  table_free(&t);
  return st;
}

static TsStatus read_sparse(const char *path, TsRipsDist *out, TsError *err) {
  Table t;
  TsStatus st = read_table(path, 1, &t, err);
  if (st) return st;
  ts_rips_dist_init(out);
  size_t ne = t.rows, nmax = 0;
  for (size_t r = 0; r < t.rows; r++)
    if (t.row_len[r] != 3) {
      st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: %zu values, expected 'i j distance'", path,
                        t.row_line[r], t.row_len[r]);
      goto done;
    }
  out->ei = malloc((ne ? ne : 1) * sizeof *out->ei);
  out->ej = malloc((ne ? ne : 1) * sizeof *out->ej);
  out->ed = malloc((ne ? ne : 1) * sizeof *out->ed);
  if (!out->ei || !out->ej || !out->ed) {
    st = ts_error_set(err, TS_ERR_NOMEM, "'%s': out of memory for %zu edges", path, ne);
    goto done;
  }
  for (size_t r = 0; r < ne; r++) {
    double a = t.v[3 * r], b = t.v[3 * r + 1], d = t.v[3 * r + 2];
    if (a < 0 || b < 0 || a != floor(a) || b != floor(b) || a > 2e9 || b > 2e9) {
      st = ts_error_set(err, TS_ERR_FORMAT, "'%s', line %zu: vertices must be integers >= 0, got %g and %g", path,
                        t.row_line[r], a, b);
      goto done;
    }
    if ((st = check_distance(path, t.row_line[r], d, err))) goto done;
    out->ei[r] = (int32_t)a;
    out->ej[r] = (int32_t)b;
    out->ed[r] = (float)d;
    if ((size_t)a + 1 > nmax) nmax = (size_t)a + 1;
    if ((size_t)b + 1 > nmax) nmax = (size_t)b + 1;
  }
  if (nmax == 0) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': no edges", path);
    goto done;
  }
  out->n = (int32_t)nmax;
  out->nedges = ne;
done:
  table_free(&t);
  if (st) ts_rips_dist_clear(out);
  return st;
}

static TsStatus read_dipha(const char *path, TsRipsDist *out, TsError *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  int64_t head[3];
  TsStatus st = TS_OK;
  double *row = NULL;
  ts_rips_dist_init(out);
  if (fread(head, sizeof head[0], 3, f) != 3) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': truncated DIPHA header", path);
    goto done;
  }
  if (head[0] != 8067171840LL) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': not a DIPHA file (bad magic number)", path);
    goto done;
  }
  if (head[1] != 7) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': DIPHA file of type %lld, not a distance matrix (7)", path,
                      (long long)head[1]);
    goto done;
  }
  if (head[2] < 1 || head[2] > 1000000) {
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': DIPHA matrix size %lld is out of range", path, (long long)head[2]);
    goto done;
  }
  size_t n = (size_t)head[2];
  row = malloc(n * sizeof *row);
  if (!row) {
    st = ts_error_set(err, TS_ERR_NOMEM, "'%s': out of memory", path);
    goto done;
  }
  if ((st = alloc_lower(out, n, err))) goto done;
  for (size_t i = 0; i < n; i++) {
    if (fread(row, sizeof *row, n, f) != n) {
      st = ts_error_set(err, TS_ERR_FORMAT, "'%s': truncated at row %zu of %zu", path, i + 1, n);
      goto done;
    }
    for (size_t j = 0; j < n; j++) {
      if (isnan(row[j]) || row[j] < 0) {
        st = ts_error_set(err, TS_ERR_FORMAT, "'%s': entry (%zu, %zu) is %s", path, i, j,
                          isnan(row[j]) ? "NaN" : "negative");
        goto done;
      }
      if (j < i) out->lower[i * (i - 1) / 2 + j] = (float)row[j];
    }
  }
done:
  free(row);
  fclose(f);
  if (st) ts_rips_dist_clear(out);
  return st;
}

TsStatus ts_rips_dist_read(TsRipsDist *out, const char *path, TsRipsFormat format, TsRipsMetric metric,
                           TsPool *pool, TsError *err) {
  ts_rips_dist_init(out);
  switch (format) {
  case TS_RIPS_POINTS: {
    double *pts;
    size_t n, dim;
    TsStatus st = ts_rips_points_read(path, &pts, &n, &dim, err);
    if (st) return st;
    st = ts_rips_dist_from_points(out, pts, n, dim, metric, pool, err);
    if (st) ts_error_prefix(err, "'%s'", path);
    free(pts);
    return st;
  }
  case TS_RIPS_DISTANCE: return read_full(path, out, err);
  case TS_RIPS_LOWER: return read_triangle(path, 0, out, err);
  case TS_RIPS_UPPER: return read_triangle(path, 1, out, err);
  case TS_RIPS_SPARSE: return read_sparse(path, out, err);
  case TS_RIPS_DIPHA: return read_dipha(path, out, err);
  }
  return ts_error_set(err, TS_ERR_INVALID, "unknown format %d", (int)format);
}
