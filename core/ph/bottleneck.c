/* bottleneck.c — exact bottleneck distance (see bottleneck.h).
 *
 * The diagonal-augmented bipartite graph at threshold r:
 *   left  u <  na: point A_i (i = u)       right v <  nb: point B_j (j = v)
 *   left  u >= na: proj(B_j) (j = u - na)  right v >= nb: proj(A_i) (i = v - nb)
 * edges: A_i-B_j and proj(B_j)-proj(A_i) when |A_i - B_j|_inf <= r,
 *        A_i-proj(A_i) and proj(B_j)-B_j when the persistence / 2 <= r.
 * (Diagonal-to-diagonal edges are only needed between the projections of
 * pairs that are matched to each other, so restricting them this way keeps
 * every perfect matching of the complete construction.) */
#include "ph/bottleneck.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- a uniform grid with removal ------------------------------------- */

/* ---- a uniform grid whose points can be taken out ---------------------
 * Points are sorted by (layer, cell, x, y), so equal points form runs and
 * one distance test decides a whole run (high multiplicities cost one
 * test). Taken points stay in place and are skipped through "next present
 * position" links with path compression, so positions never move and a
 * suspended DFS frame can resume its scan safely. The BFS grids hold every
 * point in layer 0; the DFS grids of a phase hold each right node reached
 * by the BFS under the layer it was reached from, so a DFS step from layer
 * k only ever looks at the nodes it may use (Hopcroft–Karp's layered graph,
 * as in Kerber, Morozov and Nigmetov's geometric variant). */

typedef struct CellPt {
  int64_t layer, cx, cy;
  double x, y;
  size_t i;
} CellPt;

typedef struct Grid {
  size_t n, m, ncells;           /* n points known, m of them in the grid */
  const double *xy;
  double ox, oy, cs;
  int64_t *kl, *kx, *ky;         /* cell keys (layer, x, y), sorted */
  size_t *cstart, *cend;         /* per cell: positions [cstart, cend) */
  size_t *order, *pos;           /* position -> point, point -> position (SIZE_MAX: absent) */
  size_t *run_end;               /* position -> first position past its run of equal points */
  size_t *nxt;                   /* position -> a position <= the next present one (m + 1 entries) */
  CellPt *tmp;
} Grid;

static int cmp_cellpt(const void *x, const void *y) {
  const CellPt *a = x, *b = y;
  if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
  if (a->cx != b->cx) return a->cx < b->cx ? -1 : 1;
  if (a->cy != b->cy) return a->cy < b->cy ? -1 : 1;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->y != b->y) return a->y < b->y ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

static void grid_free(Grid *g) {
  free(g->kl);
  free(g->kx);
  free(g->ky);
  free(g->cstart);
  free(g->cend);
  free(g->order);
  free(g->pos);
  free(g->run_end);
  free(g->nxt);
  free(g->tmp);
  memset(g, 0, sizeof *g);
}

static int grid_alloc(Grid *g, const double *xy, size_t n) {
  memset(g, 0, sizeof *g);
  g->n = n;
  g->xy = xy;
  size_t m = n + 1;
  g->kl = malloc(m * sizeof *g->kl);
  g->kx = malloc(m * sizeof *g->kx);
  g->ky = malloc(m * sizeof *g->ky);
  g->cstart = malloc(m * sizeof(size_t));
  g->cend = malloc(m * sizeof(size_t));
  g->order = malloc(m * sizeof(size_t));
  g->pos = malloc(m * sizeof(size_t));
  g->run_end = malloc(m * sizeof(size_t));
  g->nxt = malloc(m * sizeof(size_t));
  g->tmp = malloc(m * sizeof *g->tmp);
  return g->kl && g->kx && g->ky && g->cstart && g->cend && g->order && g->pos && g->run_end && g->nxt && g->tmp
             ? 0
             : -1;
}

static int64_t cell_of(double v, double o, double cs) { return (int64_t)floor((v - o) / cs); }

static void grid_reset(Grid *g) {
  for (size_t p = 0; p <= g->m; p++) g->nxt[p] = p;
}

/* Rebuilds the cells for cell size cs (>= the query radius). layer[i]
 * (NULL: all 0) files point i under that layer; SIZE_MAX leaves it out. */
static void grid_build(Grid *g, double cs, double ox, double oy, const size_t *layer) {
  g->cs = cs;
  g->ox = ox;
  g->oy = oy;
  g->m = 0;
  for (size_t i = 0; i < g->n; i++) {
    g->pos[i] = SIZE_MAX;
    if (layer && layer[i] == SIZE_MAX) continue;
    double x = g->xy[2 * i], y = g->xy[2 * i + 1];
    g->tmp[g->m++] = (CellPt){layer ? (int64_t)layer[i] : 0, cell_of(x, ox, cs), cell_of(y, oy, cs), x, y, i};
  }
  qsort(g->tmp, g->m, sizeof *g->tmp, cmp_cellpt);
  g->ncells = 0;
  for (size_t p = 0; p < g->m; p++) {
    const CellPt *c = &g->tmp[p];
    if (p == 0 || c->layer != c[-1].layer || c->cx != c[-1].cx || c->cy != c[-1].cy) {
      if (g->ncells) g->cend[g->ncells - 1] = p;
      g->kl[g->ncells] = c->layer;
      g->kx[g->ncells] = c->cx;
      g->ky[g->ncells] = c->cy;
      g->cstart[g->ncells++] = p;
    }
    g->order[p] = c->i;
    g->pos[c->i] = p;
  }
  if (g->ncells) g->cend[g->ncells - 1] = g->m;
  for (size_t p = g->m; p-- > 0;) {
    const CellPt *c = &g->tmp[p];
    int same = p + 1 < g->m && c[1].x == c->x && c[1].y == c->y && c[1].layer == c->layer && c[1].cx == c->cx &&
               c[1].cy == c->cy;
    g->run_end[p] = same ? g->run_end[p + 1] : p + 1;
  }
  grid_reset(g);
}

/* First present position >= p (m if none), compressing the links. */
static size_t grid_next(Grid *g, size_t p) {
  size_t r = p;
  while (g->nxt[r] != r) r = g->nxt[r];
  while (g->nxt[p] != r) {
    size_t t = g->nxt[p];
    g->nxt[p] = r;
    p = t;
  }
  return r;
}

static void grid_take(Grid *g, size_t i) {
  if (g->pos[i] != SIZE_MAX) g->nxt[g->pos[i]] = g->pos[i] + 1;
}

static long grid_find(const Grid *g, int64_t layer, int64_t cx, int64_t cy) {
  size_t lo = 0, hi = g->ncells;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int less = g->kl[mid] != layer ? g->kl[mid] < layer : g->kx[mid] != cx ? g->kx[mid] < cx : g->ky[mid] < cy;
    if (less) lo = mid + 1;
    else hi = mid;
  }
  return lo < g->ncells && g->kl[lo] == layer && g->kx[lo] == cx && g->ky[lo] == cy ? (long)lo : -1;
}

static double linf(const double *p, const double *q) {
  double dx = fabs(p[0] - q[0]), dy = fabs(p[1] - q[1]);
  return dx > dy ? dx : dy; /* not fmax: a libm call in the hottest loop */
}

/* ---- Hopcroft–Karp on the threshold graph ---------------------------- */

typedef struct BG {
  size_t na, nb, nl; /* nl = na + nb on each side */
  const double *a, *b;
  double *halfa, *halfb; /* persistence / 2 */
  Grid ga, gb;           /* BFS: all points (right nodes v >= nb sit at A's points, v < nb at B's) */
  Grid da, db;           /* DFS: the reached right nodes by layer */
  double r;
  int64_t *ml, *mr; /* current matching */
  size_t *dist;     /* left node -> BFS layer */
  size_t *lr;       /* right node -> layer it was reached from (SIZE_MAX: not reached) */
  uint32_t *stamp, phase; /* stamp[v] == phase: right node v taken in this phase */
  size_t *queue;
} BG;

#define INF_DIST SIZE_MAX

static void take_right(BG *g, size_t v, int dfs_grids) {
  g->stamp[v] = g->phase;
  if (v < g->nb) grid_take(dfs_grids ? &g->db : &g->gb, v);
  else grid_take(dfs_grids ? &g->da : &g->ga, v - g->nb);
}

/* Enumerates the present right neighbours of left node u at radius r. */
typedef struct NbIter {
  const double *c;
  Grid *gr;
  size_t offset, special;
  int stage; /* 0: special, 1: cells */
  int64_t layer, x0, x1, y0, y1, cx, cy;
  long cell;
  size_t p;
} NbIter;

static void nb_begin(BG *g, size_t u, int dfs, NbIter *it) {
  memset(it, 0, sizeof *it);
  if (u < g->na) {
    it->c = g->a + 2 * u;
    it->gr = dfs ? &g->db : &g->gb;
    it->offset = 0;
    it->special = g->halfa[u] <= g->r ? g->nb + u : SIZE_MAX;
  } else {
    size_t j = u - g->na;
    it->c = g->b + 2 * j;
    it->gr = dfs ? &g->da : &g->ga;
    it->offset = g->nb;
    it->special = g->halfb[j] <= g->r ? j : SIZE_MAX;
  }
  it->layer = dfs ? (int64_t)g->dist[u] : 0;
  if (dfs && it->special != SIZE_MAX && g->lr[it->special] != g->dist[u]) it->special = SIZE_MAX;
  Grid *gr = it->gr;
  it->cell = -1;
  if (gr->m == 0) {
    it->x0 = 1, it->x1 = 0; /* empty range */
    it->cx = 1;
    return;
  }
  it->x0 = cell_of(it->c[0] - g->r, gr->ox, gr->cs), it->x1 = cell_of(it->c[0] + g->r, gr->ox, gr->cs);
  it->y0 = cell_of(it->c[1] - g->r, gr->oy, gr->cs), it->y1 = cell_of(it->c[1] + g->r, gr->oy, gr->cs);
  it->cx = it->x0;
  it->cy = it->y0 - 1;
}

/* Next neighbour (not yet taken in this phase), or SIZE_MAX. */
static size_t nb_next(BG *g, NbIter *it) {
  if (it->stage == 0) {
    it->stage = 1;
    if (it->special != SIZE_MAX && g->stamp[it->special] != g->phase) return it->special;
  }
  Grid *gr = it->gr;
  for (;;) {
    if (it->cell >= 0) {
      size_t end = gr->cend[it->cell];
      size_t p = grid_next(gr, it->p);
      while (p < end) {
        size_t i = gr->order[p];
        if (linf(it->c, gr->xy + 2 * i) <= g->r) {
          it->p = p + 1;
          return it->offset + i;
        }
        p = grid_next(gr, gr->run_end[p]); /* the whole run is out of reach */
      }
      it->cell = -1;
    }
    /* next existing cell in the box */
    do {
      if (it->cx > it->x1) return SIZE_MAX;
      if (++it->cy > it->y1) {
        it->cy = it->y0;
        if (++it->cx > it->x1) return SIZE_MAX;
      }
      it->cell = grid_find(gr, it->layer, it->cx, it->cy);
    } while (it->cell < 0);
    it->p = gr->cstart[it->cell];
  }
}

static int dfs(BG *g, size_t u, size_t found) {
  NbIter it;
  nb_begin(g, u, 1, &it);
  for (size_t v; (v = nb_next(g, &it)) != SIZE_MAX;) {
    if (g->stamp[v] == g->phase) continue;
    int64_t w = g->mr[v];
    take_right(g, v, 1); /* tried once per phase: on a path now, or a dead end */
    int ok;
    if (w < 0) ok = g->dist[u] + 1 == found;
    else ok = g->dist[w] == g->dist[u] + 1 && dfs(g, (size_t)w, found);
    if (ok) {
      g->ml[u] = (int64_t)v;
      g->mr[v] = (int64_t)u;
      return 1;
    }
  }
  g->dist[u] = INF_DIST;
  return 0;
}

static void next_phase(BG *g) {
  if (++g->phase == 0) { /* wrapped: clear the stamps */
    memset(g->stamp, 0, g->nl * sizeof *g->stamp);
    g->phase = 1;
  }
}

/* Grows the matching in g->ml/mr to a maximum one at g->r; returns its size. */
static size_t hopcroft_karp(BG *g) {
  size_t nl = g->nl;
  for (;;) {
    next_phase(g);
    grid_reset(&g->ga);
    grid_reset(&g->gb);
    size_t head = 0, tail = 0, found = INF_DIST;
    for (size_t u = 0; u < nl; u++) {
      g->lr[u] = SIZE_MAX;
      if (g->ml[u] < 0) {
        g->dist[u] = 0;
        g->queue[tail++] = u;
      } else {
        g->dist[u] = INF_DIST;
      }
    }
    while (head < tail) {
      size_t u = g->queue[head++];
      if (g->dist[u] + 1 > found) break; /* the queue is in layer order */
      NbIter it;
      nb_begin(g, u, 0, &it);
      for (size_t v; (v = nb_next(g, &it)) != SIZE_MAX;) {
        take_right(g, v, 0); /* reached once per BFS: later visitors learn nothing new */
        g->lr[v] = g->dist[u];
        int64_t w = g->mr[v];
        if (w < 0) {
          if (g->dist[u] + 1 < found) found = g->dist[u] + 1;
        } else if (g->dist[w] == INF_DIST) {
          g->dist[w] = g->dist[u] + 1;
          g->queue[tail++] = (size_t)w;
        }
      }
    }
    if (found == INF_DIST) break;
    /* the layered graph: right nodes filed under the layer they were reached from */
    grid_build(&g->db, g->gb.cs, g->gb.ox, g->gb.oy, g->lr);
    grid_build(&g->da, g->ga.cs, g->ga.ox, g->ga.oy, g->lr + g->nb);
    next_phase(g);
    size_t aug = 0;
    for (size_t u = 0; u < nl; u++)
      if (g->ml[u] < 0 && g->dist[u] == 0) aug += (size_t)dfs(g, u, found);
    if (aug == 0) break; /* cannot happen when BFS found a path; a guard against a loop */
  }
  size_t size = 0;
  for (size_t u = 0; u < nl; u++) size += g->ml[u] >= 0;
  return size;
}

/* min(cap, L-inf distance from c to the nearest point of grid gr), growing
 * the search box from one cell until a point is found or the box passes cap. */
static double nearest_capped(Grid *gr, const double *c, double cap) {
  if (gr->m == 0) return cap;
  for (double R = gr->cs;; R *= 2) {
    double rad = fmin(R, cap), best = INFINITY;
    int64_t x0 = cell_of(c[0] - rad, gr->ox, gr->cs), x1 = cell_of(c[0] + rad, gr->ox, gr->cs);
    int64_t y0 = cell_of(c[1] - rad, gr->oy, gr->cs), y1 = cell_of(c[1] + rad, gr->oy, gr->cs);
    for (int64_t cx = x0; cx <= x1; cx++)
      for (int64_t cy = y0; cy <= y1; cy++) {
        long cell = grid_find(gr, 0, cx, cy);
        if (cell < 0) continue;
        for (size_t p = gr->cstart[cell]; p < gr->cend[cell]; p = gr->run_end[p])
          best = fmin(best, linf(c, gr->xy + 2 * gr->order[p]));
      }
    if (best <= rad) return fmin(best, cap);
    if (rad >= cap) return cap;
  }
}

/* max over points of min(diagonal distance, nearest point of the other
 * diagram): every matching pays at least this. */
static double lower_bound(BG *g, double extent, double xmin, double ymin) {
  double cs = extent / sqrt((double)(g->na + g->nb) + 1);
  if (!(cs > 0)) cs = 1;
  grid_build(&g->ga, cs, xmin, ymin, NULL);
  grid_build(&g->gb, cs, xmin, ymin, NULL);
  double lb = 0;
  for (size_t i = 0; i < g->na; i++) lb = fmax(lb, nearest_capped(&g->gb, g->a + 2 * i, g->halfa[i]));
  for (size_t j = 0; j < g->nb; j++) lb = fmax(lb, nearest_capped(&g->ga, g->b + 2 * j, g->halfb[j]));
  return lb;
}

static double edge_cost(const BG *g, size_t u, size_t v) {
  if (u < g->na) return v < g->nb ? linf(g->a + 2 * u, g->b + 2 * v) : g->halfa[u];
  return v < g->nb ? g->halfb[v] : 0;
}

static double matching_cost(const BG *g, const int64_t *ml) {
  double c = 0;
  for (size_t u = 0; u < g->nl; u++) c = fmax(c, edge_cost(g, u, (size_t)ml[u]));
  return c;
}

static uint64_t dbits(double x) {
  uint64_t u;
  memcpy(&u, &x, 8);
  return u;
}

static double bitsd(uint64_t u) {
  double x;
  memcpy(&x, &u, 8);
  return x;
}

/* Bottleneck distance between finite point sets; best_ml (nl entries) gets
 * an optimal matching. */
static TsStatus bottleneck_points(const double *a, size_t na, const double *b, size_t nb, double *dist, int64_t *best_ml,
                                  TsError *err) {
  BG g;
  memset(&g, 0, sizeof g);
  g.na = na;
  g.nb = nb;
  g.nl = na + nb;
  g.a = a;
  g.b = b;
  size_t nl = g.nl ? g.nl : 1;
  g.halfa = malloc((na + 1) * sizeof(double));
  g.halfb = malloc((nb + 1) * sizeof(double));
  g.ml = malloc(nl * sizeof *g.ml);
  g.mr = malloc(nl * sizeof *g.mr);
  int64_t *lo_ml = malloc(nl * sizeof *lo_ml), *lo_mr = malloc(nl * sizeof *lo_mr);
  g.dist = malloc(nl * sizeof *g.dist);
  g.stamp = calloc(nl, sizeof *g.stamp);
  g.queue = malloc(nl * sizeof *g.queue);
  TsStatus st = TS_OK;
  double hi = 0, xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  if (!g.halfa || !g.halfb || !g.ml || !g.mr || !lo_ml || !lo_mr || !g.dist || !g.stamp || !g.queue ||
      grid_alloc(&g.ga, a, na) || grid_alloc(&g.gb, b, nb) || grid_alloc(&g.da, a, na) || grid_alloc(&g.db, b, nb) ||
      !(g.lr = malloc(nl * sizeof *g.lr))) {
    st = ts_error_set(err, TS_ERR_NOMEM, "bottleneck distance: out of memory for %zu + %zu points", na, nb);
    goto done;
  }
  for (size_t i = 0; i < na; i++) g.halfa[i] = fabs(a[2 * i + 1] - a[2 * i]) / 2;
  for (size_t j = 0; j < nb; j++) g.halfb[j] = fabs(b[2 * j + 1] - b[2 * j]) / 2;
  for (size_t i = 0; i < na + nb; i++) {
    const double *p = i < na ? a + 2 * i : b + 2 * (i - na);
    double h = fabs(i < na ? g.halfa[i] : g.halfb[i - na]);
    if (h > hi) hi = h;
    xmin = fmin(xmin, p[0]), xmax = fmax(xmax, p[0]), ymin = fmin(ymin, p[1]), ymax = fmax(ymax, p[1]);
  }
  double extent = fmax(xmax - xmin, ymax - ymin);
  /* everything to the diagonal: feasible at hi */
  for (size_t i = 0; i < na; i++) best_ml[i] = (int64_t)(nb + i);
  for (size_t j = 0; j < nb; j++) best_ml[na + j] = (int64_t)j;
  for (size_t u = 0; u < g.nl; u++) lo_ml[u] = lo_mr[u] = -1;
  if (g.nl == 0) goto done;

  /* the answer is the smallest feasible double in [lb, hi]: test lb, then
   * bisect over the bit patterns (ordered like the values for doubles >= 0) */
  double lb = lower_bound(&g, extent, xmin, ymin);
  uint64_t lo_bits = dbits(lb), hi_bits = dbits(hi);
  int first = 1; /* lb itself may be the answer: test it before bisecting */
  while (first || hi_bits - lo_bits > 1) {
    uint64_t mid_bits = first ? lo_bits : lo_bits + (hi_bits - lo_bits) / 2;
    double r = bitsd(mid_bits);
    g.r = r;
    double cs = r;
    if (cs < extent * 1e-9) cs = extent * 1e-9;
    if (!(cs > 0)) cs = 1;
    grid_build(&g.ga, cs, xmin, ymin, NULL);
    grid_build(&g.gb, cs, xmin, ymin, NULL);
    memcpy(g.ml, lo_ml, g.nl * sizeof *g.ml);
    memcpy(g.mr, lo_mr, g.nl * sizeof *g.mr);
    size_t size = hopcroft_karp(&g);
    if (size == g.nl) {
      memcpy(best_ml, g.ml, g.nl * sizeof *best_ml);
      double c = matching_cost(&g, g.ml); /* <= r, and feasible too */
      hi_bits = dbits(c);
      if (first) break;
    } else {
      lo_bits = mid_bits;
      memcpy(lo_ml, g.ml, g.nl * sizeof *lo_ml);
      memcpy(lo_mr, g.mr, g.nl * sizeof *lo_mr);
    }
    first = 0;
  }
  hi = bitsd(hi_bits);
done:
  *dist = hi;
  if (!st && g.nl) *dist = matching_cost(&g, best_ml);
  free(g.halfa);
  free(g.halfb);
  free(g.ml);
  free(g.mr);
  free(lo_ml);
  free(lo_mr);
  free(g.dist);
  free(g.stamp);
  free(g.queue);
  grid_free(&g.ga);
  grid_free(&g.gb);
  grid_free(&g.da);
  grid_free(&g.db);
  free(g.lr);
  return st;
}

static TsStatus bottleneck_dim(const TsDiagram *a, const TsDiagram *b, int dim, double *dist, TsMatching *m,
                               TsError *err) {
  TsMatchSide sa, sb;
  TsStatus st = ts_match_side_init(&sa, a, dim, 0, m, err);
  if (st) return st;
  if ((st = ts_match_side_init(&sb, b, dim, 1, m, err))) {
    ts_match_side_clear(&sa);
    return st;
  }
  double d = 0;
  int64_t *ml = malloc((sa.n + sb.n + 1) * sizeof *ml);
  if (!ml) {
    st = ts_error_set(err, TS_ERR_NOMEM, "bottleneck distance: out of memory");
    goto done;
  }
  if ((st = bottleneck_points(sa.xy, sa.n, sb.xy, sb.n, &d, ml, err))) goto done;
  if (m) {
    for (size_t u = 0; u < sa.n + sb.n && !st; u++) {
      size_t v = (size_t)ml[u];
      if (u < sa.n && v < sb.n)
        st = ts_matching_add(m, sa.idx[u], sb.idx[v], linf(sa.xy + 2 * u, sb.xy + 2 * v), err);
      else if (u < sa.n)
        st = ts_matching_add(m, sa.idx[u], -1, fabs(sa.xy[2 * u + 1] - sa.xy[2 * u]) / 2, err);
      else if (v < sb.n)
        st = ts_matching_add(m, -1, sb.idx[v], fabs(sb.xy[2 * v + 1] - sb.xy[2 * v]) / 2, err);
    }
    if (st) goto done;
  }
  if (sa.ness != sb.ness) {
    d = INFINITY;
  } else {
    for (size_t k = 0; k < sa.ness; k++) {
      double c = fabs(a->pairs[sa.ess[k]].birth - b->pairs[sb.ess[k]].birth);
      d = fmax(d, c);
      if (m && (st = ts_matching_add(m, sa.ess[k], sb.ess[k], c, err))) goto done;
    }
  }
done:
  free(ml);
  ts_match_side_clear(&sa);
  ts_match_side_clear(&sb);
  *dist = d;
  return st;
}

TsStatus ts_bottleneck_distance(const TsDiagram *a, const TsDiagram *b, int dim, double *dist, TsMatching *m,
                                TsError *err) {
  if (m) ts_matching_init(m);
  for (size_t i = 0; i < a->n + b->n; i++) {
    const TsPair *p = i < a->n ? &a->pairs[i] : &b->pairs[i - a->n];
    if (isnan(p->birth) || isnan(p->death) || isinf(p->birth))
      return ts_error_set(err, TS_ERR_INVALID, "bottleneck distance: pair %zu of diagram %c has birth %g, death %g",
                          i < a->n ? i : i - a->n, i < a->n ? 'A' : 'B', p->birth, p->death);
  }
  double total = 0;
  int d0 = dim < 0 ? 0 : dim, d1 = dim < 0 ? ts_match_maxdim(a, b) : dim;
  for (int k = d0; k <= d1; k++) {
    double d;
    TsStatus st = bottleneck_dim(a, b, k, &d, m, err);
    if (st) {
      if (m) ts_matching_clear(m);
      return st;
    }
    total = fmax(total, d);
  }
  *dist = total;
  return TS_OK;
}
