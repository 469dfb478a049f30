/* wasserstein.c — W_p between diagrams (see wasserstein.h).
 *
 * Rows u < na: A_u; rows u >= na: proj(B_{u-na}). Columns v < nb: B_v;
 * columns v >= nb: proj(A_{v-nb}). Costs (p-th powers of the ground
 * distance): A_u-B_v the point distance, A_u-proj(A_u) and
 * proj(B_v)-B_v the diagonal distance, proj-proj 0, everything else
 * forbidden. */
#include "ph/wasserstein.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ts_wasserstein_options_default(TsWassersteinOptions *o) {
  o->p = 2;
  o->ground = TS_GROUND_LINF;
  o->relative_error = 0;
}

typedef struct Problem {
  size_t na, nb, n;
  const double *a, *b;
  double *diag_a, *diag_b; /* p-th power of the diagonal cost */
  double p;
  TsGround ground;
} Problem;

/* ternaries, not fmax: libm's fmax is a call (NaN rules) in the hottest loops */
#define MAX2(a, b) ((a) > (b) ? (a) : (b))

static double ground(TsGround g, const double *x, const double *y) {
  double dx = fabs(x[0] - y[0]), dy = fabs(x[1] - y[1]);
  return g == TS_GROUND_L2 ? sqrt(dx * dx + dy * dy) : MAX2(dx, dy);
}

static double diag_dist(TsGround g, const double *x) {
  double h = fabs(x[1] - x[0]);
  return g == TS_GROUND_L2 ? h / M_SQRT2 : h / 2;
}

static double powp(double x, double p) { return p == 1 ? x : p == 2 ? x * x : pow(x, p); }

static double real_cost(const Problem *P, size_t u, size_t v) {
  return powp(ground(P->ground, P->a + 2 * u, P->b + 2 * v), P->p);
}

/* cost of (u, v), or INFINITY when forbidden */
static double cost(const Problem *P, size_t u, size_t v) {
  if (u < P->na) {
    if (v < P->nb) return real_cost(P, u, v);
    return v - P->nb == u ? P->diag_a[u] : INFINITY;
  }
  if (v < P->nb) return v == u - P->na ? P->diag_b[v] : INFINITY;
  return 0;
}

/* ---- exact: Hungarian method (shortest augmenting paths) ------------ */

static int hungarian(const Problem *P, int64_t *row_of_col) {
  size_t n = P->n;
  double *u = calloc(n + 1, sizeof *u), *v = calloc(n + 1, sizeof *v), *minv = malloc((n + 1) * sizeof *minv);
  size_t *p = calloc(n + 1, sizeof *p), *way = calloc(n + 1, sizeof *way);
  unsigned char *used = malloc(n + 1);
  if (!u || !v || !minv || !p || !way || !used) {
    free(u), free(v), free(minv), free(p), free(way), free(used);
    return -1;
  }
  /* A feasible start (column then row reduction) and a greedy matching on
   * its tight edges: most rows never need a search. */
  for (size_t j = 1; j <= n; j++) {
    double m = INFINITY;
    for (size_t i = 1; i <= n; i++) {
      double c = cost(P, i - 1, j - 1);
      if (c < m) m = c;
    }
    v[j] = m;
  }
  for (size_t i = 1; i <= n; i++) {
    double m = INFINITY;
    size_t best = 0;
    for (size_t j = 1; j <= n; j++) {
      double r = cost(P, i - 1, j - 1) - v[j];
      if (r < m || (r == m && best && p[best] != 0 && p[j] == 0)) m = r, best = j;
    }
    u[i] = m;
    if (best && p[best] == 0) p[best] = i;
  }
  unsigned char *matched = calloc(n + 1, 1);
  if (!matched) {
    free(u), free(v), free(minv), free(p), free(way), free(used);
    return -1;
  }
  for (size_t j = 1; j <= n; j++) matched[p[j]] = 1;
  for (size_t i = 1; i <= n; i++) {
    if (matched[i]) continue;
    p[0] = i;
    size_t j0 = 0;
    for (size_t j = 0; j <= n; j++) minv[j] = INFINITY, used[j] = 0;
    do {
      used[j0] = 1;
      size_t i0 = p[j0], j1 = 0;
      double delta = INFINITY;
      /* relax the finite edges of row i0 (its structure spelt out: a real
       * row sees B and its own projection, a projection row its own B point
       * and every diagonal column), then pick the nearest unused column */
      size_t r = i0 - 1, nb = P->nb;
      double ui = u[i0];
#define RELAX(j, c)                                         \
  do {                                                      \
    double cur_ = (c) - ui - v[j];                          \
    if (!used[j] && cur_ < minv[j]) minv[j] = cur_, way[j] = j0; \
  } while (0)
      if (r < P->na) {
        const double *a = P->a + 2 * r;
        for (size_t j = 1; j <= nb; j++) RELAX(j, powp(ground(P->ground, a, P->b + 2 * (j - 1)), P->p));
        RELAX(nb + 1 + r, P->diag_a[r]);
      } else {
        RELAX(r - P->na + 1, P->diag_b[r - P->na]);
        for (size_t j = nb + 1; j <= n; j++) RELAX(j, 0.0);
      }
#undef RELAX
      for (size_t j = 1; j <= n; j++)
        if (!used[j] && minv[j] < delta) delta = minv[j], j1 = j;
      if (j1 == 0) break; /* cannot happen: the diagonal always completes a matching */
      for (size_t j = 0; j <= n; j++) {
        if (used[j]) u[p[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  for (size_t j = 1; j <= n; j++) row_of_col[j - 1] = (int64_t)p[j] - 1;
  free(u), free(v), free(minv), free(p), free(way), free(used), free(matched);
  return 0;
}

/* ---- approximate: auction with epsilon scaling ------------------------ */

typedef struct Heap { /* min-heap of the diagonal columns' prices */
  size_t n;
  size_t *h, *at; /* heap slot -> column index (0..na-1), column -> slot */
  const double *price;
} Heap;

static void heap_swap(Heap *H, size_t i, size_t j) {
  size_t t = H->h[i];
  H->h[i] = H->h[j];
  H->h[j] = t;
  H->at[H->h[i]] = i;
  H->at[H->h[j]] = j;
}

/* a price went up: sift down */
static void heap_down(Heap *H, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < H->n && H->price[H->h[l]] < H->price[H->h[m]]) m = l;
    if (r < H->n && H->price[H->h[r]] < H->price[H->h[m]]) m = r;
    if (m == i) return;
    heap_swap(H, i, m);
    i = m;
  }
}

/* A kd-tree over B's points whose nodes know the lowest price below them:
 * a bidder's two cheapest objects (cost + price) are found by descending
 * into the children whose bound (distance to the box)^p + min price can
 * still beat the second best (as in Hera's auction). Prices only rise. */
typedef struct KdNode {
  double lo[2], hi[2], minprice;
  size_t start, end, parent;
  size_t left, right; /* SIZE_MAX for a leaf */
} KdNode;

typedef struct Kd {
  const Problem *P;
  const double *price;
  KdNode *nodes;
  size_t nnodes, *perm, *leaf_of;
} Kd;

#define KD_LEAF 8

static const double *kd_pts;
static int kd_axis;
static int cmp_axis(const void *x, const void *y) {
  double a = kd_pts[2 * *(const size_t *)x + kd_axis], b = kd_pts[2 * *(const size_t *)y + kd_axis];
  return a < b ? -1 : a > b;
}

static size_t kd_build(Kd *t, size_t start, size_t end, size_t parent) {
  size_t id = t->nnodes++;
  KdNode *nd = &t->nodes[id];
  nd->start = start, nd->end = end, nd->parent = parent, nd->minprice = 0;
  nd->lo[0] = nd->lo[1] = INFINITY, nd->hi[0] = nd->hi[1] = -INFINITY;
  for (size_t k = start; k < end; k++)
    for (int d = 0; d < 2; d++) {
      double v = t->P->b[2 * t->perm[k] + d];
      nd->lo[d] = fmin(nd->lo[d], v), nd->hi[d] = fmax(nd->hi[d], v);
    }
  if (end - start <= KD_LEAF) {
    nd->left = nd->right = SIZE_MAX;
    for (size_t k = start; k < end; k++) t->leaf_of[t->perm[k]] = id;
    return id;
  }
  kd_pts = t->P->b;
  kd_axis = nd->hi[0] - nd->lo[0] >= nd->hi[1] - nd->lo[1] ? 0 : 1;
  qsort(t->perm + start, end - start, sizeof *t->perm, cmp_axis);
  size_t mid = start + (end - start) / 2;
  size_t l = kd_build(t, start, mid, id);
  size_t r = kd_build(t, mid, end, id);
  t->nodes[id].left = l, t->nodes[id].right = r;
  return id;
}

static void kd_price_changed(Kd *t, size_t v) {
  size_t id = t->leaf_of[v];
  KdNode *nd = &t->nodes[id];
  double m = INFINITY;
  for (size_t k = nd->start; k < nd->end; k++) m = fmin(m, t->price[t->perm[k]]);
  nd->minprice = m;
  while (nd->parent != SIZE_MAX) {
    nd = &t->nodes[nd->parent];
    double mm = fmin(t->nodes[nd->left].minprice, t->nodes[nd->right].minprice);
    if (mm == nd->minprice) break;
    nd->minprice = mm;
  }
}

static double box_cost(const Problem *P, const KdNode *nd, const double *q) {
  double dx = MAX2(nd->lo[0] - q[0], q[0] - nd->hi[0]), dy = MAX2(nd->lo[1] - q[1], q[1] - nd->hi[1]);
  dx = MAX2(dx, 0), dy = MAX2(dy, 0);
  return powp(P->ground == TS_GROUND_L2 ? sqrt(dx * dx + dy * dy) : MAX2(dx, dy), P->p);
}

static void kd_best2(const Kd *t, size_t id, size_t u, double *w1, double *w2, size_t *v1) {
  const KdNode *nd = &t->nodes[id];
  if (nd->left == SIZE_MAX) {
    for (size_t k = nd->start; k < nd->end; k++) {
      size_t v = t->perm[k];
      double w = real_cost(t->P, u, v) + t->price[v];
      if (w < *w1) *w2 = *w1, *w1 = w, *v1 = v;
      else if (w < *w2) *w2 = w;
    }
    return;
  }
  const double *q = t->P->a + 2 * u;
  size_t c[2] = {nd->left, nd->right};
  double lb[2];
  for (int k = 0; k < 2; k++) lb[k] = box_cost(t->P, &t->nodes[c[k]], q) + t->nodes[c[k]].minprice;
  int first = lb[1] < lb[0];
  for (int k = 0; k < 2; k++) {
    int which = k ? !first : first;
    if (lb[which] < *w2) kd_best2(t, c[which], u, w1, w2, v1);
  }
}

static int auction(const Problem *P, double delta, int64_t *row_of_col) {
  size_t n = P->n, na = P->na, nb = P->nb;
  double *price = calloc(n, sizeof *price);
  int64_t *col_of_row = malloc(n * sizeof *col_of_row);
  size_t *queue = malloc(n * sizeof *queue);
  Heap H = {.n = na, .h = malloc((na + 1) * sizeof(size_t)), .at = malloc((na + 1) * sizeof(size_t))};
  if (!price || !col_of_row || !queue || !H.h || !H.at) {
    free(price), free(col_of_row), free(queue), free(H.h), free(H.at);
    return -1;
  }
  H.price = price + nb;
  for (size_t i = 0; i < na; i++) H.h[i] = H.at[i] = i;
  /* an upper bound of every cost: the diagonal ones and the bounding box's diameter */
  double cmax = 0, lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (size_t u = 0; u < na; u++) cmax = fmax(cmax, P->diag_a[u]);
  for (size_t v = 0; v < nb; v++) cmax = fmax(cmax, P->diag_b[v]);
  for (size_t k = 0; k < na + nb; k++)
    for (int d = 0; d < 2; d++) {
      double x = k < na ? P->a[2 * k + d] : P->b[2 * (k - na) + d];
      lo[d] = fmin(lo[d], x), hi[d] = fmax(hi[d], x);
    }
  if (na && nb) {
    double box[2][2] = {{lo[0], lo[1]}, {hi[0], hi[1]}};
    cmax = fmax(cmax, powp(ground(P->ground, box[0], box[1]), P->p));
  }
  Kd kd = {.P = P, .price = price};
  kd.nodes = malloc((2 * nb / (KD_LEAF / 2) + 8) * sizeof *kd.nodes);
  kd.perm = malloc((nb + 1) * sizeof *kd.perm);
  kd.leaf_of = malloc((nb + 1) * sizeof *kd.leaf_of);
  if (!kd.nodes || !kd.perm || !kd.leaf_of) {
    free(price), free(col_of_row), free(queue), free(H.h), free(H.at), free(kd.nodes), free(kd.perm), free(kd.leaf_of);
    return -1;
  }
  for (size_t v = 0; v < nb; v++) kd.perm[v] = v;
  if (nb) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* qsort's comparator reads globals */
    pthread_mutex_lock(&lock);
    kd_build(&kd, 0, nb, SIZE_MAX);
    pthread_mutex_unlock(&lock);
  }
  double eps = cmax > 0 ? cmax / 4 : 1;
  for (;;) {
    for (size_t i = 0; i < n; i++) col_of_row[i] = row_of_col[i] = -1;
    size_t qh = 0, qn = n;
    for (size_t i = 0; i < n; i++) queue[i] = i;
    while (qn) {
      size_t u = queue[qh];
      qh = (qh + 1) % n;
      qn--;
      double w1 = INFINITY, w2 = INFINITY;
      size_t v1 = 0;
      if (u < na) {
        double w = P->diag_a[u] + price[nb + u];
        w1 = w, v1 = nb + u; /* the own diagonal first: a good bound for the tree */
        if (nb) kd_best2(&kd, 0, u, &w1, &w2, &v1);
      } else {
        size_t j = u - na;
        w1 = P->diag_b[j] + price[j];
        v1 = j;
        if (na) {
          size_t top = H.h[0];
          double t = price[nb + top];
          double t2 = INFINITY;
          if (H.n > 1) t2 = price[nb + H.h[1]];
          if (H.n > 2) t2 = fmin(t2, price[nb + H.h[2]]);
          if (t < w1) w2 = fmin(w1, t2), w1 = t, v1 = nb + top;
          else w2 = t;
        }
      }
      if (w2 == INFINITY) w2 = w1 + cmax + eps; /* a single choice */
      price[v1] += w2 - w1 + eps;
      if (v1 >= nb) heap_down(&H, H.at[v1 - nb]);
      else kd_price_changed(&kd, v1);
      int64_t prev = row_of_col[v1];
      row_of_col[v1] = (int64_t)u;
      col_of_row[u] = (int64_t)v1;
      if (prev >= 0) {
        col_of_row[prev] = -1;
        queue[(qh + qn) % n] = (size_t)prev;
        qn++;
      }
    }
    double total = 0;
    for (size_t v = 0; v < n; v++) total += cost(P, (size_t)row_of_col[v], v);
    /* a dual bound from the prices: with col value -price[v] and row value
     * min_v (cost(u, v) + price[v]), every constraint holds, so
     * dual = sum of row values - sum of prices <= optimum <= total */
    double dual = 0;
    for (size_t v = 0; v < n; v++) dual -= price[v];
    for (size_t u = 0; u < n; u++) {
      double w1, w2 = INFINITY;
      size_t v1;
      if (u < na) {
        w1 = P->diag_a[u] + price[nb + u], v1 = nb + u;
        if (nb) kd_best2(&kd, 0, u, &w1, &w2, &v1);
      } else {
        w1 = P->diag_b[u - na] + price[u - na];
        if (na && price[nb + H.h[0]] < w1) w1 = price[nb + H.h[0]];
      }
      dual += w1;
    }
    /* eps-complementary slackness also gives optimum >= total - n eps */
    double lower = fmax(dual, total - (double)n * eps);
    if (total == 0 || (lower > 0 && total <= (1 + delta) * lower)) break;
    if (eps < cmax * 1e-15 || eps < DBL_MIN) break; /* at the precision of doubles */
    eps /= 5;
  }
  free(price), free(col_of_row), free(queue), free(H.h), free(H.at), free(kd.nodes), free(kd.perm), free(kd.leaf_of);
  return 0;
}

/* ---- per dimension --------------------------------------------------- */

static TsStatus wasserstein_dim(const TsDiagram *A, const TsDiagram *B, int dim, const TsWassersteinOptions *o,
                                double *sum, TsMatching *m, TsError *err) {
  TsMatchSide sa, sb;
  TsStatus st = ts_match_side_init(&sa, A, dim, 0, m, err);
  if (st) return st;
  if ((st = ts_match_side_init(&sb, B, dim, 1, m, err))) {
    ts_match_side_clear(&sa);
    return st;
  }
  Problem P = {.na = sa.n, .nb = sb.n, .n = sa.n + sb.n, .a = sa.xy, .b = sb.xy, .p = o->p, .ground = o->ground};
  P.diag_a = malloc((P.na + 1) * sizeof(double));
  P.diag_b = malloc((P.nb + 1) * sizeof(double));
  int64_t *roc = malloc((P.n + 1) * sizeof *roc);
  double total = 0;
  if (!P.diag_a || !P.diag_b || !roc) {
    st = ts_error_set(err, TS_ERR_NOMEM, "Wasserstein distance: out of memory");
    goto done;
  }
  for (size_t i = 0; i < P.na; i++) P.diag_a[i] = powp(diag_dist(o->ground, P.a + 2 * i), o->p);
  for (size_t j = 0; j < P.nb; j++) P.diag_b[j] = powp(diag_dist(o->ground, P.b + 2 * j), o->p);
  if (P.n) {
    int r = o->relative_error > 0 ? auction(&P, o->relative_error, roc) : hungarian(&P, roc);
    if (r) {
      st = ts_error_set(err, TS_ERR_NOMEM, "Wasserstein distance: out of memory for %zu points", P.n);
      goto done;
    }
  }
  for (size_t v = 0; v < P.n; v++) {
    size_t u = (size_t)roc[v];
    total += cost(&P, u, v);
    if (!m) continue;
    if (u < P.na && v < P.nb) st = ts_matching_add(m, sa.idx[u], sb.idx[v], ground(o->ground, P.a + 2 * u, P.b + 2 * v), err);
    else if (u < P.na) st = ts_matching_add(m, sa.idx[u], -1, diag_dist(o->ground, P.a + 2 * u), err);
    else if (v < P.nb) st = ts_matching_add(m, -1, sb.idx[v], diag_dist(o->ground, P.b + 2 * v), err);
    if (st) goto done;
  }
  if (sa.ness != sb.ness) {
    total = INFINITY;
  } else {
    for (size_t k = 0; k < sa.ness; k++) {
      double c = fabs(A->pairs[sa.ess[k]].birth - B->pairs[sb.ess[k]].birth);
      total += powp(c, o->p);
      if (m && (st = ts_matching_add(m, sa.ess[k], sb.ess[k], c, err))) goto done;
    }
  }
done:
  free(P.diag_a);
  free(P.diag_b);
  free(roc);
  ts_match_side_clear(&sa);
  ts_match_side_clear(&sb);
  *sum = total;
  return st;
}

TsStatus ts_wasserstein_distance(const TsDiagram *a, const TsDiagram *b, int dim, const TsWassersteinOptions *o,
                                 double *dist, TsMatching *m, TsError *err) {
  TsWassersteinOptions def;
  if (!o) ts_wasserstein_options_default(&def), o = &def;
  if (m) ts_matching_init(m);
  if (!(o->p >= 1) || isinf(o->p))
    return ts_error_set(err, TS_ERR_INVALID, "Wasserstein distance: order p = %g must be finite and >= 1", o->p);
  if (!(o->relative_error >= 0))
    return ts_error_set(err, TS_ERR_INVALID, "Wasserstein distance: relative error %g must be >= 0", o->relative_error);
  for (size_t i = 0; i < a->n + b->n; i++) {
    const TsPair *p = i < a->n ? &a->pairs[i] : &b->pairs[i - a->n];
    if (isnan(p->birth) || isnan(p->death) || isinf(p->birth))
      return ts_error_set(err, TS_ERR_INVALID, "Wasserstein distance: pair %zu of diagram %c has birth %g, death %g",
                          i < a->n ? i : i - a->n, i < a->n ? 'A' : 'B', p->birth, p->death);
  }
  double total = 0;
  int d0 = dim < 0 ? 0 : dim, d1 = dim < 0 ? ts_match_maxdim(a, b) : dim;
  for (int k = d0; k <= d1; k++) {
    double s;
    TsStatus st = wasserstein_dim(a, b, k, o, &s, m, err);
    if (st) {
      if (m) ts_matching_clear(m);
      return st;
    }
    total += s;
  }
  *dist = o->p == 1 ? total : pow(total, 1 / o->p);
  return TS_OK;
}
