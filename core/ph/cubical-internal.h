/* cubical-internal.h — what the parts of the cubical engine share.
 *
 * Every cell of a cubical complex on a grid with shape n[0..d-1] is named by
 * its coordinates in the doubled ("Khalimsky") grid: odd coordinates span an
 * interval, even ones sit on a vertex, so the dimension of a cell is the
 * number of odd coordinates.
 *   V-construction: doubled shape 2n-1, pixel x is the vertex 2x, a cell's
 *     value is the max over its vertices.
 *   T-construction: doubled shape 2n+1, pixel x is the top cell 2x+1, a cell's
 *     value is the min over the top cells (pixels) that contain it.
 * Pixels are sorted once into ranks (distinct, ties broken by flat index);
 * a cell's rank is the rank of the pixel that gives it its value. The total
 * order of cells is (rank, dimension, slot) (slot: cub_cell_slot): a valid
 * filtration order, shared by every algorithm (union-find for H0, duality
 * for the top dimension, cohomology in between), so each one's pairs are
 * exactly those of the same reduced boundary matrix. Cells are visited by
 * sweeping pixels in rank order and listing, at each pixel, the cells whose
 * rank is that pixel's ("patterns"); nothing per cell is stored but the
 * cohomology's four-bit pivot table. */
#ifndef TS_PH_CUBICAL_INTERNAL_H
#define TS_PH_CUBICAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ph/cubical.h"

#define CUB_MAXD 4
#define CUB_INF_RANK UINT32_MAX

/* A cell of dimension k at a pixel: offset o in {-1,0,1}^d from the pixel's
 * doubled position (V: 2x, T: 2x+1) and the other pixels that share it. */
typedef struct CubPattern {
  int64_t coff;         /* doubled flat offset */
  int64_t soff;         /* slot offset (cub_cell_slot), the order of cells at a pixel */
  int8_t o[CUB_MAXD];
  uint32_t need;        /* V: boundary bits that must be clear for the cell to exist */
  int nother;
  int64_t poff[15];     /* flat pixel offsets of the other vertices / adjacent pixels */
  uint32_t omask[15];   /* T: boundary bits that must be clear for that pixel to exist */
} CubPattern;

/* Division by a run-time constant by one multiplication: exact for every
 * 32-bit numerator and divisor >= 2 (m = ceil(2^64 / d); the error of q*m/2^64
 * is below q/2^64 < 1/d, too small to cross an integer). */
__extension__ typedef unsigned __int128 cub_u128;
typedef struct CubDiv {
  uint64_t m;
  uint32_t d;
} CubDiv;

static inline CubDiv cub_div_init(uint32_t d) { return (CubDiv){d > 1 ? UINT64_MAX / d + 1 : 0, d}; }

static inline uint32_t cub_div(uint32_t q, CubDiv D) {
  return D.d > 1 ? (uint32_t)(((cub_u128)q * D.m) >> 64) : q;
}

typedef struct CubGrid {
  int d, T, super;
  /* 2D grids are swept in padded coordinates: rank has (H + 2) x (W + 2)
   * entries with a frame of rank npix around the image (never lower than a
   * pixel, and the outside's node for the T dual), and order holds padded
   * indices, so the 2D sweeps need no bounds checks. pw = W + 2, else 0. */
  uint32_t pw;
  const volatile int *cancel;  /* TsCubicalOptions.cancel */
  size_t n[CUB_MAXD], pstride[CUB_MAXD], npix;
  size_t m[CUB_MAXD];          /* doubled shape */
  uint64_t cstride[CUB_MAXD];  /* doubled strides */
  uint64_t ncells;
  size_t lat[CUB_MAXD];        /* lattice of cell bases (c >> 1): V n, T n+1 */
  size_t latstride[CUB_MAXD], nlat;
  const double *values;
  uint32_t *rank, *order;      /* rank has npix + 1 entries: rank[npix] = CUB_INF_RANK */
  /* 2D: two arrays of one 8-byte word per padded pixel, the pixel sort's
   * buffers and then the two sweeps' union-find nodes, so that the pages
   * are faulted in once (NULL: each allocates its own). */
  uint64_t *work[2];
  uint32_t cutoff;             /* ranks >= cutoff are absent (threshold) */
  CubPattern *pat[CUB_MAXD + 1];
  int npat[CUB_MAXD + 1];
  int orient_count[CUB_MAXD + 1];    /* C(d, k) */
  int8_t orient_index[1 << CUB_MAXD];/* odd-axis mask -> index among masks of its popcount */
  uint8_t orient_mask[CUB_MAXD + 1][6];
  TsDiagram *out;
  TsError *err;
  TsStatus st;                 /* first failure while emitting */
  /* Pairs found by the sweeps, as rank pairs rb << 32 | rd, all of dimension
   * pend_dim: turning ranks into values and coordinates takes four random
   * loads a pair, so it waits for cub_flush, which overlaps them. */
  uint64_t *pend;
  size_t npend, cappend;
  int pend_dim;
  /* 2D: the pending pairs name pixels (padded), not ranks: a sweep that
   * knows the pixels spares the flush two random loads a pair. */
  int pend_pixels;
} CubGrid;

/* Boundary bits of pixel x: bit 2i when x_i == 0, bit 2i+1 when x_i == n_i-1. */
static inline uint32_t cub_bmask(const CubGrid *g, size_t p, size_t *x) {
  uint32_t b = 0;
  for (int i = g->d - 1; i >= 0; i--) {
    size_t xi = p % g->n[i];
    p /= g->n[i];
    x[i] = xi;
    b |= (uint32_t)(xi == 0) << (2 * i);
    b |= (uint32_t)(xi + 1 == g->n[i]) << (2 * i + 1);
  }
  return b;
}

/* Whether pattern pt at pixel p (rank r, boundary bits b) is a cell whose rank is r. */
static inline int cub_pattern_hit(const CubGrid *g, const CubPattern *pt, size_t p, uint32_t r, uint32_t b) {
  const uint32_t *rank = g->rank;
  if (!g->T) {
    if (pt->need & b) return 0;
    for (int j = 0; j < pt->nother; j++)
      if (rank[(int64_t)p + pt->poff[j]] > r) return 0;
  } else {
    for (int j = 0; j < pt->nother; j++)
      if (!(pt->omask[j] & b) && rank[(int64_t)p + pt->poff[j]] < r) return 0;
  }
  return 1;
}

/* The sweeps visit pixels in value order, i.e. at random, and read the
 * ranks (and union-find nodes) of the 3^d block around each: fetch the rows
 * of that block a few pixels ahead so the loads overlap. a: an array
 * indexed like the pixels, of elements elsize bytes. */
#define CUB_PREFETCH 8
static inline void cub_prefetch_block(const CubGrid *g, const void *a, size_t elsize, size_t p) {
  const char *b = a;
  if (g->d < 2) {
    __builtin_prefetch(b + p * elsize);
    return;
  }
  size_t W = g->pstride[g->d - 2], P = g->d >= 3 ? g->pstride[g->d - 3] : 0, n = g->npix;
  for (int z = g->d >= 3 ? -1 : 0; z <= (g->d >= 3 ? 1 : 0); z++) {
    size_t q = p;
    if (z < 0) {
      if (q < P) continue;
      q -= P;
    } else if (z > 0) {
      if (q + P >= n) continue;
      q += P;
    }
    __builtin_prefetch(b + q * elsize);
    if (q >= W) __builtin_prefetch(b + (q - W) * elsize);
    if (q + W < n) __builtin_prefetch(b + (q + W) * elsize);
  }
}

/* Doubled flat index of pixel p's own cell (V vertex 2x, T top cell 2x+1). */
static inline uint64_t cub_pixel_cell(const CubGrid *g, const size_t *x) {
  uint64_t c = 0;
  for (int i = 0; i < g->d; i++) c += (2 * (uint64_t)x[i] + (uint64_t)g->T) * g->cstride[i];
  return c;
}

static inline void cub_cell_coords(const CubGrid *g, uint64_t c, size_t *cc) {
  for (int i = g->d - 1; i >= 0; i--) {
    cc[i] = (size_t)(c % g->m[i]);
    c /= g->m[i];
  }
}

/* Rank of the cell with doubled coordinates cc. */
uint32_t cub_cell_rank(const CubGrid *g, const size_t *cc);
/* Compact slot of a cell: lattice base (cc >> 1) times C(d, k) plus its orientation. */
uint64_t cub_cell_slot(const CubGrid *g, const size_t *cc);
/* Inverse of cub_cell_slot for cells of dimension k. */
void cub_slot_coords(const CubGrid *g, int k, uint64_t slot, size_t *cc);

void cub_emit_slow(CubGrid *g, int dim, uint32_t rb, uint32_t rd);
/* Appends the pairs pending in g->pend to g->out with values and
 * coordinates, leaving out those of zero persistence (ties). */
void cub_flush(CubGrid *g);
/* Flushes, then takes pending pairs as pixels (1) or ranks (0): each 2D
 * sweep says which at its start, and the pairs it leaves pending are
 * flushed by the next sweep or the caller, so that they reach the
 * diagram in the callers' order (H0 first). */
static inline void cub_pend_pixels(CubGrid *g, int pixels) {
  cub_flush(g);
  g->pend_pixels = pixels;
}

/* Makes room for k more pending pairs of dimension dim (flushing those of
 * another dimension first); nonzero on failure, recorded in g->st. */
int cub_pend_grow(CubGrid *g, int dim, size_t k);

/* Where a sweep may write up to k pairs of dimension dim without a branch
 * per pair (pend[n] = pair; n += kept; then g->npend += n), or NULL on
 * failure (recorded in g->st). */
static inline uint64_t *cub_pend_room(CubGrid *g, int dim, size_t k) {
  if (g->cappend - g->npend < k || dim != g->pend_dim)
    if (cub_pend_grow(g, dim, k)) return NULL;
  return g->pend + g->npend;
}

/* Records a pair (ranks; death CUB_INF_RANK = essential) for g->out; the
 * pairs reach it, with coordinates and without those of zero persistence,
 * at the next cub_flush. Records the first failure in g->st. */
static inline void cub_emit(CubGrid *g, int dim, uint32_t rb, uint32_t rd) {
  if (rb == rd) return;
  if (g->npend == g->cappend || dim != g->pend_dim) {
    cub_emit_slow(g, dim, rb, rd);
    return;
  }
  g->pend[g->npend++] = (uint64_t)rb << 32 | rd;
}

/* Sorts the grid's pixels (ascending values, or descending for superlevel;
 * ties by flat index; TS_ERR_INVALID, unlocated, if a value is NaN): fills
 * order (rank -> pixel), rank (pixel -> rank)
 * and, unless it is NULL, sorted (rank -> value, the input's own bits).
 * With pad_w = W > 0 (a 2D grid of width W), order and rank use padded
 * indices (see CubGrid.pw) and rank must hold (n / W + 2) * (W + 2)
 * entries; the frame is left unset. Integer-valued grids use a counting
 * sort, others an LSD radix sort, in scratch[0] and scratch[1] (n words
 * each) if scratch is not NULL. */
TsStatus cub_rank_pixels(const double *v, size_t n, int super, size_t pad_w, uint32_t *order, uint32_t *rank,
                         double *sorted, uint64_t *const *scratch, TsError *err);

/* Whether the caller asked to stop; the sweeps ask every CUB_CANCEL_EVERY
 * pixels (cheap, and a few milliseconds apart at most). */
#define CUB_CANCEL_EVERY 65536u
static inline int cub_cancelled(const CubGrid *g, size_t i) {
  return (i & (CUB_CANCEL_EVERY - 1)) == 0 && g->cancel && *g->cancel;
}
TsStatus cub_cancel_error(CubGrid *g);
/* For the 2D raster passes, row by row: whether to stop (every 256 rows;
 * the sweep then sees the flag and returns cub_cancel_error). */
static inline int cub_cancelled_row(const CubGrid *g, uint32_t y) {
  return (y & 255) == 0 && g->cancel && *g->cancel;
}

/* Whether the 2D raster passes may take their AVX2 loops (the same
 * results): the CPU has it and TOPOSCOPE_NO_AVX2 is unset, so the tests can
 * run the scalar loops on the same machine. */
int cub_use_avx2(void);
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CUB_AVX2 1
/* Unsigned a < b, lane by lane, as all-ones: max(a, b) != a. */
__attribute__((target("avx2"))) static inline __m256i cub_lt_epu32(__m256i a, __m256i b) {
  return _mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_max_epu32(a, b), a), _mm256_set1_epi32(-1));
}
#endif

/* A node of the 2D sweeps' union-finds (cubical-pixels.c,
 * cubical-squares.c): parent and birth rank side by side, so that reaching
 * a root (a random load) brings its rank along in the same cache line. */
typedef struct CubNode {
  uint32_t par, rank;
} CubNode;

static inline uint32_t cub_find(CubNode *nd, uint32_t x) {
  while (nd[x].par != x) {
    nd[x].par = nd[nd[x].par].par;
    x = nd[x].par;
  }
  return x;
}

/* One join at a saddle: *a (its rank *ra) and the root b become one
 * component under the elder (the higher rank backwards, rev, else the
 * lower), written without branches (which root is the elder and whether
 * the two are one already are coin flips on noise, and a mispredicted
 * branch costs more than the work). Returns whether they were two; *young
 * and *ry get the root that died and its rank (*a itself when they were
 * one). */
static inline uint32_t cub_join(CubNode *nd, uint32_t *a, uint32_t *ra, uint32_t b, const int rev, uint32_t *young,
                                uint32_t *ry) {
  uint32_t rb = nd[b].rank, differ = *a != b;
  uint32_t bold = rev ? rb > *ra : rb < *ra; /* b is the elder: a dies */
  uint32_t old = bold ? b : *a;
  *young = bold ? *a : b;
  *ry = bold ? *ra : rb;
  nd[*young].par = old; /* a no-op when a == b */
  *a = old;
  *ra = bold ? rb : *ra;
  return differ;
}

/* The pixel of the saddle k places after the one at list[at] in the sweep
 * (the list ascending, swept backwards if rev), for prefetching; the
 * caller knows there are k more. */
static inline uint32_t cub_saddle_ahead(const CubGrid *g, const uint32_t *list, size_t at, size_t k, const int rev) {
  return g->order[list[rev ? at - k : at + k]];
}

/* What the two 2D sweeps also share: the ranks set in a bitset of nwords
 * words, in increasing order, as a new array (*list, *ns); and, after a
 * forward sweep, H0's essential classes: the alive components' roots
 * among the nodes [y][x], y < rows, x < cols (rows pw apart), pended in
 * increasing rank as pixels or ranks as g->pend_pixels says. */
TsStatus cub_bitset_list(const uint64_t *bits, size_t nwords, uint32_t **list, size_t *ns, TsError *err);
TsStatus cub_essential(CubGrid *g, const CubNode *nd, uint32_t rows, uint32_t cols, uint32_t alive);

/* The algorithms. Each appends its pairs to g->out. */
TsStatus cub_h0(CubGrid *g, uint8_t *negative_edges /* bitset over edge slots, or NULL */);
TsStatus cub_top_dual(CubGrid *g);
/* 2D grids (g->pw set): union-find over pixels joined to their four
 * neighbours, swept forwards (H0 of V) or backwards (reverse: the
 * T-construction's dual, with the outside). */
TsStatus cub_pixel_sweep(CubGrid *g, int reverse);
/* 2D grids: union-find over the squares of four pixels, swept backwards
 * (reverse: the V-construction's dual) or forwards (H0 of T). */
TsStatus cub_square_sweep(CubGrid *g, int reverse);
/* Cohomology in dimension k (1 <= k <= d-2). cleared: bitset over k-cell
 * slots of the cells that are pivots of dimension k-1; *pivots_out gets the
 * bitset over (k+1)-cell slots of this dimension's pivots (caller frees). */
TsStatus cub_cohomology(CubGrid *g, int k, const uint8_t *cleared, uint8_t **pivots_out);

#endif
