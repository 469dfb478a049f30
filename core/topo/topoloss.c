/* topoloss.c — Topo-GEN's seven losses and push0 with exact gradients
 * (see topoloss.h).
 *
 * Every loss is written in X's bar values (H0 deaths, H1 births and
 * deaths), each the length of one edge of X. A loss adds weight * dL/dvalue
 * into per-bar gradient arrays; one pass at the end turns those into dL/dX
 * through the edges, so the cost of the backward is O(bars * dim). */
#include "topo/topoloss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ph/bottleneck.h"
#include "ph/matching.h"
#include "ph/rips.h"

static const char *const loss_names[TS_TOPO_NLOSS] = {"bottleneck0", "bottleneck1", "persentropy0", "persentropy1",
                                                       "dsigma0",     "dsigma1",     "density"};

const char *ts_topo_loss_name(int id) { return id >= 0 && id < TS_TOPO_NLOSS ? loss_names[id] : NULL; }

TsStatus ts_topo_weights_parse(const char *text, const char *what, double weights[TS_TOPO_NLOSS], TsError *err) {
  const char *p = text;
  int k = 0;
  if (!what) what = "weights";
  if (!text) return ts_error_set(err, TS_ERR_INVALID, "%s: missing", what);
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    if (!*p) break;
    char *end;
    double v = strtod(p, &end);
    if (end == p) return ts_error_set(err, TS_ERR_INVALID, "%s: '%s' is not a number", what, p);
    if (!isfinite(v)) return ts_error_set(err, TS_ERR_INVALID, "%s: weight %d is not finite", what, k);
    if (k == TS_TOPO_NLOSS)
      return ts_error_set(err, TS_ERR_INVALID, "%s: more than %d weights in '%s'", what, TS_TOPO_NLOSS, text);
    weights[k++] = v;
    p = end;
    if (*p && *p != ',' && *p != ' ' && *p != '\t')
      return ts_error_set(err, TS_ERR_INVALID, "%s: unexpected '%c' in '%s'", what, *p, text);
  }
  if (k != TS_TOPO_NLOSS)
    return ts_error_set(err, TS_ERR_INVALID, "%s: expected %d weights (bottleneck0,bottleneck1,persentropy0,"
                        "persentropy1,dsigma0,dsigma1,density), got %d", what, TS_TOPO_NLOSS, k);
  return TS_OK;
}

void ts_topo_config_init(TsTopoConfig *c) {
  memset(c, 0, sizeof *c);
  c->weights[0] = 15.0;
  c->weights[1] = 15.0;
  c->deg = 1;
  c->pers0_delta = 0.001;
  c->pers1_delta = 0.001;
  c->dsigma0_sigma = 0.05;
  c->dsigma1_sigma = 0.05;
  c->density_sigma = 0.2;
  c->density_scale = 0.002;
  c->density_maxrange = 35.0;
  c->density_npoints = 30;
}

static TsStatus config_check(const TsTopoConfig *c, TsError *err) {
  if (c->deg != 0 && c->deg != 1) return ts_error_set(err, TS_ERR_INVALID, "topological loss: degree %d (0 or 1)", c->deg);
  for (int k = 0; k < TS_TOPO_NLOSS; k++)
    if (!isfinite(c->weights[k]))
      return ts_error_set(err, TS_ERR_INVALID, "topological loss: weight of %s is not finite", loss_names[k]);
  if (!(c->pers0_delta >= 0) || !(c->pers1_delta >= 0) || !isfinite(c->pers0_delta) || !isfinite(c->pers1_delta))
    return ts_error_set(err, TS_ERR_INVALID, "topological loss: persentropy delta must be >= 0");
  if (!(c->dsigma0_sigma > 0) || !(c->dsigma1_sigma > 0) || !(c->density_sigma > 0) || !isfinite(c->dsigma0_sigma) ||
      !isfinite(c->dsigma1_sigma) || !isfinite(c->density_sigma))
    return ts_error_set(err, TS_ERR_INVALID, "topological loss: every sigma must be > 0");
  if (!isfinite(c->density_scale) || !(c->density_maxrange > 0) || !isfinite(c->density_maxrange) ||
      c->density_npoints < 2)
    return ts_error_set(err, TS_ERR_INVALID, "topological loss: density needs a finite scale, maxrange > 0 and "
                        "npoints >= 2");
  return TS_OK;
}

/* ---- diagrams ---------------------------------------------------------- */

void ts_topo_diagram_init(TsTopoDiagram *t) { memset(t, 0, sizeof *t); }

void ts_topo_diagram_clear(TsTopoDiagram *t) {
  free(t->d0);
  free(t->e0);
  free(t->b1);
  free(t->d1);
  free(t->e1);
  ts_diagram_clear(&t->fin);
  ts_topo_diagram_init(t);
}

static int grow(void **p, size_t n, size_t size) {
  void *q = realloc(*p, n * size);
  if (!q) return -1;
  *p = q;
  return 0;
}

TsStatus ts_topo_diagram_from(TsTopoDiagram *t, const TsDiagram *d, TsError *err) {
  size_t n0 = 0, n1 = 0;
  int has_h1 = d->maxdim >= 1;
  for (size_t k = 0; k < d->n; k++) {
    const TsPair *p = &d->pairs[k];
    if (isnan(p->birth) || isnan(p->death))
      return ts_error_set(err, TS_ERR_INVALID, "diagram pair %zu is NaN", k);
    if (p->dim == 1) has_h1 = 1;
    if (!isfinite(p->death) || !isfinite(p->birth)) continue;
    if (p->dim == 0) n0++;
    else if (p->dim == 1) n1++;
  }
  if (n0 > t->cap0) {
    size_t c = n0 + n0 / 2 + 16;
    if (grow((void **)&t->d0, c, sizeof *t->d0) || grow((void **)&t->e0, 2 * c, sizeof *t->e0))
      return ts_error_set(err, TS_ERR_NOMEM, "topological loss: %zu H0 bars", n0);
    t->cap0 = c;
  }
  if (n1 > t->cap1) {
    size_t c = n1 + n1 / 2 + 16;
    if (grow((void **)&t->b1, c, sizeof *t->b1) || grow((void **)&t->d1, c, sizeof *t->d1) ||
        grow((void **)&t->e1, 4 * c, sizeof *t->e1))
      return ts_error_set(err, TS_ERR_NOMEM, "topological loss: %zu H1 bars", n1);
    t->cap1 = c;
  }
  TsStatus st = ts_diagram_reserve(&t->fin, n0 + n1, err);
  if (st) return st;
  const int edges = d->loc == TS_LOC_EDGES;
  size_t i0 = 0, i1 = 0;
  t->fin.n = n0 + n1;
  t->fin.loc = d->loc;
  t->fin.maxdim = has_h1 ? 1 : 0;
  for (size_t k = 0; k < d->n; k++) {
    const TsPair *p = &d->pairs[k];
    if (!isfinite(p->death) || !isfinite(p->birth)) continue;
    if (p->dim == 0) {
      t->d0[i0] = p->death;
      t->e0[2 * i0] = edges ? p->death_at[0] : -1;
      t->e0[2 * i0 + 1] = edges ? p->death_at[1] : -1;
      t->fin.pairs[i0] = *p;
      i0++;
    } else if (p->dim == 1) {
      t->b1[i1] = p->birth;
      t->d1[i1] = p->death;
      int32_t *e = &t->e1[4 * i1];
      e[0] = edges ? p->birth_at[0] : -1;
      e[1] = edges ? p->birth_at[1] : -1;
      e[2] = edges ? p->death_at[0] : -1;
      e[3] = edges ? p->death_at[1] : -1;
      t->fin.pairs[n0 + i1] = *p;
      i1++;
    }
  }
  t->n0 = n0;
  t->n1 = n1;
  t->has_h1 = has_h1;
  return TS_OK;
}

TsStatus ts_topo_diagram_of_cloud(TsTopoDiagram *t, const float *pts, size_t n, size_t dim, int deg, TsPool *pool,
                                  TsError *err) {
  if (deg != 0 && deg != 1) return ts_error_set(err, TS_ERR_INVALID, "topological loss: degree %d (0 or 1)", deg);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = deg;
  o.pool = pool;
  TsDiagram d;
  ts_diagram_init(&d);
  TsStatus st = ts_rips_ph_pointsf(pts, n, dim, &o, &d, err);
  if (!st) st = ts_topo_diagram_from(t, &d, err);
  ts_diagram_clear(&d);
  return st;
}

TsStatus ts_topo_diagram_batch(TsTopoDiagram *out, const float *const *clouds, const size_t *n, size_t count,
                               size_t dim, int deg, TsPool *pool, TsError *err) {
  if (deg != 0 && deg != 1) return ts_error_set(err, TS_ERR_INVALID, "topological loss: degree %d (0 or 1)", deg);
  if (count == 0) return TS_OK;
  TsDiagram *d = calloc(count, sizeof *d);
  if (!d) return ts_error_set(err, TS_ERR_NOMEM, "topological loss: %zu diagrams", count);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = deg;
  TsStatus st = ts_rips_ph_batchf(clouds, n, count, dim, &o, pool, d, err);
  for (size_t k = 0; k < count && !st; k++) st = ts_topo_diagram_from(&out[k], &d[k], err);
  for (size_t k = 0; k < count; k++) ts_diagram_clear(&d[k]);
  free(d);
  return st;
}

/* ---- the workspace ------------------------------------------------------ */

struct TsTopoWork {
  TsPool *pool;
  TsDiagram raw;     /* the engine's diagram of X */
  TsTopoDiagram x;   /* X's bars with edges */
  double *xd, *gd;   /* X and dL/dX in double (float entry points) */
  size_t xcap;
  double *l0, *g0;   /* H0: recomputed deaths, dL/d(death) */
  double *lb, *ld, *gb, *gdd; /* H1: recomputed births/deaths, their grads */
  size_t c0, c1;
  double *fx;        /* density: f_X - f_Y at each t */
  int fcap;
  TsMatching m;
  int64_t match[2][2]; /* the last longest edges (TsTopoResult.match) */
};

TsTopoWork *ts_topo_work_new(TsPool *pool, TsError *err) {
  TsTopoWork *w = calloc(1, sizeof *w);
  if (!w) {
    ts_error_set(err, TS_ERR_NOMEM, "topological loss: no memory for a workspace");
    return NULL;
  }
  w->pool = pool;
  ts_diagram_init(&w->raw);
  ts_topo_diagram_init(&w->x);
  ts_matching_init(&w->m);
  return w;
}

void ts_topo_work_free(TsTopoWork *w) {
  if (!w) return;
  ts_diagram_clear(&w->raw);
  ts_topo_diagram_clear(&w->x);
  ts_matching_clear(&w->m);
  free(w->xd);
  free(w->gd);
  free(w->l0);
  free(w->g0);
  free(w->lb);
  free(w->ld);
  free(w->gb);
  free(w->gdd);
  free(w->fx);
  free(w);
}

const TsTopoDiagram *ts_topo_work_diagram(const TsTopoWork *w) { return &w->x; }

static double edge_len(const double *x, size_t dim, int32_t i, int32_t j) {
  const double *a = x + (size_t)i * dim, *b = x + (size_t)j * dim;
  double s = 0;
  for (size_t c = 0; c < dim; c++) {
    double t = a[c] - b[c];
    s += t * t;
  }
  return sqrt(s);
}

/* dL/dlen = g on the edge (i, j): adds g (x_i - x_j) / len to x_i's
 * gradient and the opposite to x_j's; nothing for a zero-length edge. */
static void edge_backward(const double *x, double *grad, size_t dim, int32_t i, int32_t j, double len, double g) {
  if (g == 0 || !(len > 0)) return;
  const double *a = x + (size_t)i * dim, *b = x + (size_t)j * dim;
  double *ga = grad + (size_t)i * dim, *gb = grad + (size_t)j * dim, s = g / len;
  for (size_t c = 0; c < dim; c++) {
    double t = (a[c] - b[c]) * s;
    ga[c] += t;
    gb[c] -= t;
  }
}

/* ---- the losses: each returns its value, sets *dep and, when it depends
 * on X, adds wgt * dL/dvalue into the per-bar gradients ------------------ */

/* The longest edge of the optimal matching in dimension dim, ties broken
 * towards an edge with a point of X; a, b: bar indices within the
 * dimension (-1 = diagonal). */
static TsStatus longest_edge(TsTopoWork *w, const TsTopoDiagram *y, int dim, int64_t *a, int64_t *b, TsError *err) {
  double dist;
  ts_matching_clear(&w->m);
  TsStatus st = ts_bottleneck_distance(&w->x.fin, &y->fin, dim, &dist, &w->m, err);
  if (st) return st;
  const TsMatchEdge *best = NULL;
  for (size_t k = 0; k < w->m.n; k++) {
    const TsMatchEdge *e = &w->m.edges[k];
    if (!best || e->cost > best->cost || (e->cost == best->cost && best->a < 0 && e->a >= 0)) best = e;
  }
  *a = *b = -1;
  if (!best) return TS_OK;
  int64_t off0 = dim == 0 ? 0 : (int64_t)w->x.n0, off1 = dim == 0 ? 0 : (int64_t)y->n0;
  *a = best->a >= 0 ? best->a - off0 : -1;
  *b = best->b >= 0 ? best->b - off1 : -1;
  w->match[dim][0] = *a;
  w->match[dim][1] = *b;
  return TS_OK;
}

static double sgn(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }

static TsStatus loss_bottleneck0(TsTopoWork *w, const TsTopoDiagram *y, double wgt, double *val, int *dep,
                                 TsError *err) {
  *val = 0;
  *dep = 0;
  if (w->x.n0 == 0) return TS_OK;
  int64_t a, b;
  TsStatus st = longest_edge(w, y, 0, &a, &b, err);
  if (st || a < 0) return st;
  *dep = 1;
  if (b >= 0) {
    double diff = w->l0[a] - y->d0[b];
    *val = fabs(diff);
    w->g0[a] += wgt * sgn(diff);
  } else {
    *val = w->l0[a] / 2;
    w->g0[a] += wgt * 0.5;
  }
  return TS_OK;
}

static TsStatus loss_bottleneck1(TsTopoWork *w, const TsTopoDiagram *y, double wgt, double *val, int *dep,
                                 TsError *err) {
  *val = 0;
  *dep = 0;
  if (w->x.n1 == 0) return TS_OK;
  int64_t a, b;
  TsStatus st = longest_edge(w, y, 1, &a, &b, err);
  if (st || a < 0) return st;
  *dep = 1;
  if (b >= 0) {
    double db = w->lb[a] - y->b1[b], dd = w->ld[a] - y->d1[b];
    if (fabs(db) > fabs(dd)) {
      *val = fabs(db);
      w->gb[a] += wgt * sgn(db);
    } else {
      *val = fabs(dd);
      w->gdd[a] += wgt * sgn(dd);
    }
  } else {
    *val = (w->ld[a] - w->lb[a]) / 2;
    w->gdd[a] += wgt * 0.5;
    w->gb[a] -= wgt * 0.5;
  }
  return TS_OK;
}

/* sum (l/L) log(l/L) over the lifetimes l > delta; *sum_out = L */
static double neg_entropy(const double *b, const double *d, size_t n, double delta, double *sum_out) {
  double L = 0;
  for (size_t k = 0; k < n; k++) {
    double l = d[k] - (b ? b[k] : 0);
    if (l > delta) L += l;
  }
  *sum_out = L;
  if (L == 0) return 0;
  double e = 0;
  for (size_t k = 0; k < n; k++) {
    double l = d[k] - (b ? b[k] : 0);
    if (l > delta) e += l * log(l / L);
  }
  return e / L;
}

/* dim 0: lifetimes are the deaths; dim 1: death - birth */
static void loss_persentropy(TsTopoWork *w, const TsTopoDiagram *y, int dim, double delta, double wgt, double *val,
                             int *dep) {
  *val = 0;
  *dep = 0;
  size_t nx = dim == 0 ? w->x.n0 : w->x.n1;
  if (nx == 0) return;
  const double *xb = dim == 0 ? NULL : w->lb, *xd = dim == 0 ? w->l0 : w->ld;
  double L, Ly;
  double ex = neg_entropy(xb, xd, nx, delta, &L);
  if (L == 0) return;
  double ey = dim == 0 ? neg_entropy(NULL, y->d0, y->n0, delta, &Ly) : neg_entropy(y->b1, y->d1, y->n1, delta, &Ly);
  *dep = 1;
  *val = (ex - ey) * (ex - ey);
  /* dE/dl_k = (log(l_k / L) - E) / L */
  double c = wgt * 2 * (ex - ey) / L;
  for (size_t k = 0; k < nx; k++) {
    double l = xd[k] - (xb ? xb[k] : 0);
    if (!(l > delta)) continue;
    double g = c * (log(l / L) - ex);
    if (dim == 0) {
      w->g0[k] += g;
    } else {
      w->gdd[k] += g;
      w->gb[k] -= g;
    }
  }
}

/* One term of the scale-space kernel between p = (pb, pd) and q = (qb, qd):
 * returns g(p, q) and its partial derivatives in pb, pd. */
static double kernel_term(double pb, double pd, double qb, double qd, double inv8s, double *dpb, double *dpd) {
  double u = pb - qb, v = pd - qd;
  double e1 = exp(-(u * u + v * v) * inv8s);
  double s = pb - qd, t = pd - qb;
  double e2 = exp(-(s * s + t * t) * inv8s);
  *dpb = -2 * inv8s * (e1 * u - e2 * s);
  *dpd = -2 * inv8s * (e1 * v - e2 * t);
  return e1 - e2;
}

static void loss_dsigma(TsTopoWork *w, const TsTopoDiagram *y, int dim, double sigma, double wgt, double *val,
                        int *dep) {
  *val = 0;
  *dep = 0;
  size_t nx = dim == 0 ? w->x.n0 : w->x.n1, ny = dim == 0 ? y->n0 : y->n1;
  if (nx == 0) return;
  *dep = 1;
  const double inv8s = 1.0 / (8 * sigma), C = 1.0 / (8 * M_PI * sigma);
  double kxx = 0, kxy = 0;
  for (size_t i = 0; i < nx; i++) {
    double pb = dim == 0 ? 0 : w->lb[i], pd = dim == 0 ? w->l0[i] : w->ld[i];
    double gb = 0, gd = 0, db, dd;
    /* g is symmetric, so d k(X,X) / dp_i = 2 C sum_j dg(p_i, p_j)/dp_i */
    for (size_t j = 0; j < nx; j++) {
      double qb = dim == 0 ? 0 : w->lb[j], qd = dim == 0 ? w->l0[j] : w->ld[j];
      kxx += kernel_term(pb, pd, qb, qd, inv8s, &db, &dd);
      gb += 2 * db;
      gd += 2 * dd;
    }
    for (size_t j = 0; j < ny; j++) {
      double qb = dim == 0 ? 0 : y->b1[j], qd = dim == 0 ? y->d0[j] : y->d1[j];
      kxy += kernel_term(pb, pd, qb, qd, inv8s, &db, &dd);
      gb -= 2 * db;
      gd -= 2 * dd;
    }
    if (dim == 0) {
      w->g0[i] += wgt * C * gd;
    } else {
      w->gb[i] += wgt * C * gb;
      w->gdd[i] += wgt * C * gd;
    }
  }
  *val = C * kxx - 2 * C * kxy;
}

static double density_at(const double *d, size_t n, double t, double sigma) {
  double f = 0;
  for (size_t k = 0; k < n; k++) {
    double z = (d[k] - t) / sigma, d2 = d[k] * d[k];
    f += d2 * d2 * exp(-z * z);
  }
  return f;
}

static TsStatus loss_density(TsTopoWork *w, const TsTopoDiagram *y, const TsTopoConfig *c, double wgt, double *val,
                             int *dep, TsError *err) {
  *val = 0;
  *dep = 0;
  if (w->x.n0 == 0) return TS_OK;
  const int np = c->density_npoints;
  if (np > w->fcap) {
    if (grow((void **)&w->fx, (size_t)np, sizeof *w->fx))
      return ts_error_set(err, TS_ERR_NOMEM, "density loss: %d evaluation points", np);
    w->fcap = np;
  }
  const double s = c->density_sigma, sc = c->density_scale;
  double loss = 0;
  for (int k = 0; k < np; k++) {
    double t = c->density_maxrange * k / (np - 1);
    double diff = sc * (density_at(w->l0, w->x.n0, t, s) - density_at(y->d0, y->n0, t, s));
    w->fx[k] = diff;
    loss += diff * diff;
  }
  *dep = 1;
  *val = loss / np;
  for (size_t i = 0; i < w->x.n0; i++) {
    double d = w->l0[i], d3 = d * d * d, g = 0;
    for (int k = 0; k < np; k++) {
      double t = c->density_maxrange * k / (np - 1), z = (d - t) / s;
      g += w->fx[k] * exp(-z * z) * (4 * d3 - d3 * d * 2 * (d - t) / (s * s));
    }
    w->g0[i] += wgt * 2 * sc * g / np;
  }
  return TS_OK;
}

/* ---- the combined loss -------------------------------------------------- */

static TsStatus topo_core(TsTopoWork *w, const double *x, size_t n, size_t dim, const TsTopoDiagram *y,
                          const TsTopoConfig *cin, double *grad, TsTopoResult *res, TsError *err) {
  TsTopoConfig cdef;
  if (!cin) {
    ts_topo_config_init(&cdef);
    cin = &cdef;
  }
  const TsTopoConfig *c = cin;
  memset(res, 0, sizeof *res);
  for (int d = 0; d < 2; d++) res->match[d][0] = res->match[d][1] = -1;
  TsStatus st = config_check(c, err);
  if (st) return st;
  if (n < 1 || dim < 1) return ts_error_set(err, TS_ERR_INVALID, "topological loss: empty cloud (%zu x %zu)", n, dim);
  if (!y) return ts_error_set(err, TS_ERR_INVALID, "topological loss: no target diagram");
  for (size_t k = 0; k < n * dim; k++)
    if (!isfinite(x[k]))
      return ts_error_set(err, TS_ERR_INVALID, "topological loss: coordinate %zu of point %zu is not finite",
                          k % dim, k / dim);

  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = c->deg;
  o.pool = w->pool;
  if (n >= 2) {
    st = ts_rips_ph_points(x, n, dim, &o, &w->raw, err);
    if (st) return st;
  } else {
    w->raw.n = 0;
    w->raw.maxdim = c->deg;
    w->raw.loc = TS_LOC_EDGES;
  }
  st = ts_topo_diagram_from(&w->x, &w->raw, err);
  if (st) return st;
  const size_t n0 = w->x.n0, n1 = w->x.n1;
  for (size_t k = 0; k < 2 * n0; k++)
    if (w->x.e0[k] < 0 || (size_t)w->x.e0[k] >= n) return ts_error_set(err, TS_ERR_INTERNAL, "H0 edge out of range");
  for (size_t k = 0; k < 4 * n1; k++)
    if (w->x.e1[k] < 0 || (size_t)w->x.e1[k] >= n) return ts_error_set(err, TS_ERR_INTERNAL, "H1 edge out of range");
  if (n0 > w->c0) {
    size_t cap = w->x.cap0;
    if (grow((void **)&w->l0, cap, sizeof *w->l0) || grow((void **)&w->g0, cap, sizeof *w->g0))
      return ts_error_set(err, TS_ERR_NOMEM, "topological loss: %zu H0 bars", n0);
    w->c0 = cap;
  }
  if (n1 > w->c1) {
    size_t cap = w->x.cap1;
    if (grow((void **)&w->lb, cap, sizeof *w->lb) || grow((void **)&w->ld, cap, sizeof *w->ld) ||
        grow((void **)&w->gb, cap, sizeof *w->gb) || grow((void **)&w->gdd, cap, sizeof *w->gdd))
      return ts_error_set(err, TS_ERR_NOMEM, "topological loss: %zu H1 bars", n1);
    w->c1 = cap;
  }
  double push0 = 0;
  for (size_t k = 0; k < n0; k++) {
    w->l0[k] = edge_len(x, dim, w->x.e0[2 * k], w->x.e0[2 * k + 1]);
    w->g0[k] = 0;
    push0 -= w->l0[k] / 2;
  }
  for (size_t k = 0; k < n1; k++) {
    const int32_t *e = &w->x.e1[4 * k];
    w->lb[k] = edge_len(x, dim, e[0], e[1]);
    w->ld[k] = edge_len(x, dim, e[2], e[3]);
    w->gb[k] = w->gdd[k] = 0;
  }
  for (int d = 0; d < 2; d++) w->match[d][0] = w->match[d][1] = -1;
  res->push0 = push0;
  res->n0 = n0;
  res->n1 = n1;

  for (int k = 0; k < TS_TOPO_NLOSS; k++) {
    const double wk = c->weights[k];
    if (wk == 0) continue;
    const int h1 = k == TS_TOPO_BOTTLENECK1 || k == TS_TOPO_PERSENTROPY1 || k == TS_TOPO_DSIGMA1;
    if (h1 && c->deg < 1) continue;
    double v = 0;
    int dep = 0;
    switch (k) {
    case TS_TOPO_BOTTLENECK0: st = loss_bottleneck0(w, y, wk, &v, &dep, err); break;
    case TS_TOPO_BOTTLENECK1: st = loss_bottleneck1(w, y, wk, &v, &dep, err); break;
    case TS_TOPO_PERSENTROPY0: loss_persentropy(w, y, 0, c->pers0_delta, wk, &v, &dep); break;
    case TS_TOPO_PERSENTROPY1: loss_persentropy(w, y, 1, c->pers1_delta, wk, &v, &dep); break;
    case TS_TOPO_DSIGMA0: loss_dsigma(w, y, 0, c->dsigma0_sigma, wk, &v, &dep); break;
    case TS_TOPO_DSIGMA1: loss_dsigma(w, y, 1, c->dsigma1_sigma, wk, &v, &dep); break;
    default: st = loss_density(w, y, c, wk, &v, &dep, err); break;
    }
    if (st) return st;
    res->value[k] = dep ? v : 0;
    res->dep[k] = dep;
    if (dep) {
      res->total += wk * v;
      res->depends = 1;
    }
  }
  memcpy(res->match, w->match, sizeof res->match);
  if (!res->depends && c->push0_fallback) {
    res->used_push0 = 1;
    for (size_t k = 0; k < n0; k++) w->g0[k] = -0.5;
  }
  if (grad) {
    memset(grad, 0, n * dim * sizeof *grad);
    if (res->depends || res->used_push0) {
      for (size_t k = 0; k < n0; k++) edge_backward(x, grad, dim, w->x.e0[2 * k], w->x.e0[2 * k + 1], w->l0[k], w->g0[k]);
      for (size_t k = 0; k < n1; k++) {
        const int32_t *e = &w->x.e1[4 * k];
        edge_backward(x, grad, dim, e[0], e[1], w->lb[k], w->gb[k]);
        edge_backward(x, grad, dim, e[2], e[3], w->ld[k], w->gdd[k]);
      }
    }
  }
  return TS_OK;
}

TsStatus ts_topo_loss_f64(TsTopoWork *w, const double *x, size_t n, size_t dim, const TsTopoDiagram *target,
                          const TsTopoConfig *cfg, double *grad, TsTopoResult *res, TsError *err) {
  TsTopoResult tmp;
  return topo_core(w, x, n, dim, target, cfg, grad, res ? res : &tmp, err);
}

static TsStatus widen(TsTopoWork *w, const float *x, size_t n, size_t dim, TsError *err) {
  size_t total;
  if (ts_mul_size(n, dim, &total) || total > SIZE_MAX / sizeof(double))
    return ts_error_set(err, TS_ERR_NOMEM, "topological loss: a %zu x %zu cloud is too large", n, dim);
  if (total > w->xcap) {
    if (grow((void **)&w->xd, total, sizeof *w->xd) || grow((void **)&w->gd, total, sizeof *w->gd))
      return ts_error_set(err, TS_ERR_NOMEM, "topological loss: a %zu x %zu cloud", n, dim);
    w->xcap = total;
  }
  for (size_t k = 0; k < total; k++) w->xd[k] = x[k];
  return TS_OK;
}

TsStatus ts_topo_loss(TsTopoWork *w, const float *x, size_t n, size_t dim, const TsTopoDiagram *target,
                      const TsTopoConfig *cfg, float *grad, TsTopoResult *res, TsError *err) {
  TsTopoResult tmp;
  if (!res) res = &tmp;
  TsStatus st = widen(w, x, n, dim, err);
  if (st) {
    memset(res, 0, sizeof *res);
    return st;
  }
  st = topo_core(w, w->xd, n, dim, target, cfg, grad ? w->gd : NULL, res, err);
  if (!st && grad)
    for (size_t k = 0; k < n * dim; k++) grad[k] = (float)w->gd[k];
  return st;
}

TsStatus ts_topo_loss_one(TsTopoWork *w, TsTopoLossId id, const float *x, size_t n, size_t dim,
                          const TsTopoDiagram *target, const TsTopoConfig *cfg, float *grad, double *value,
                          int *depends, TsError *err) {
  if ((int)id < 0 || id >= TS_TOPO_NLOSS) return ts_error_set(err, TS_ERR_INVALID, "topological loss: id %d", (int)id);
  TsTopoConfig c;
  if (cfg) c = *cfg;
  else ts_topo_config_init(&c);
  for (int k = 0; k < TS_TOPO_NLOSS; k++) c.weights[k] = k == (int)id ? 1.0 : 0.0;
  if (id == TS_TOPO_BOTTLENECK1 || id == TS_TOPO_PERSENTROPY1 || id == TS_TOPO_DSIGMA1) c.deg = 1;
  c.push0_fallback = 0;
  TsTopoResult r;
  TsStatus st = ts_topo_loss(w, x, n, dim, target, &c, grad, &r, err);
  if (value) *value = st ? 0 : r.value[id];
  if (depends) *depends = st ? 0 : r.dep[id];
  return st;
}

TsStatus ts_topo_push0(TsTopoWork *w, const float *x, size_t n, size_t dim, float *grad, double *value,
                       TsError *err) {
  TsTopoConfig c;
  ts_topo_config_init(&c);
  for (int k = 0; k < TS_TOPO_NLOSS; k++) c.weights[k] = 0;
  c.deg = 0;
  c.push0_fallback = 1;
  TsTopoDiagram empty;
  ts_topo_diagram_init(&empty);
  TsTopoResult r;
  TsStatus st = ts_topo_loss(w, x, n, dim, &empty, &c, grad, &r, err);
  if (value) *value = st ? 0 : r.push0;
  return st;
}
