/* conv.c — conv2d and conv_transpose2d, forward and backward, via
 * im2col/col2im + cblas_sgemm, or Winograd F(2x2, 3x3) (winograd.c) for
 * 3x3 stride-1 pad-1 convolutions.
 *
 * Work is split over images: each pool task owns a range of images, its own
 * column buffer, and (backward) its own weight-gradient partial sum; the
 * partials are added in partition order at the end, so the result does not
 * depend on which thread ran which partition (see tensor.h). */
#include "nn/ops.h"
#include "nn/simd.h"
#include "nn/winograd.h"

#include <string.h>

#include "nn/blas.h"

#define DET_PARTS 4 /* weight-gradient partitions in deterministic mode */

TsStatus ts_conv2d_desc_init(TsConv2dDesc *d, TsError *err) {
  if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->r < 1 || d->s < 1)
    return ts_error_set(err, TS_ERR_INVALID, "conv2d: sizes must be positive (n %d c %d h %d w %d k %d kernel %dx%d)",
                        d->n, d->c, d->h, d->w, d->k, d->r, d->s);
  if (d->stride_h < 1 || d->stride_w < 1 || d->dil_h < 1 || d->dil_w < 1 || d->pad_h < 0 || d->pad_w < 0)
    return ts_error_set(err, TS_ERR_INVALID, "conv2d: stride and dilation must be >= 1 and padding >= 0");
  if (d->groups < 1 || d->c % d->groups || d->k % d->groups)
    return ts_error_set(err, TS_ERR_INVALID, "conv2d: groups %d must divide in channels %d and out channels %d",
                        d->groups, d->c, d->k);
  if (d->transposed) {
    if (d->out_pad_h < 0 || d->out_pad_w < 0 ||
        (d->out_pad_h >= d->stride_h && d->out_pad_h >= d->dil_h) ||
        (d->out_pad_w >= d->stride_w && d->out_pad_w >= d->dil_w))
      return ts_error_set(err, TS_ERR_INVALID, "conv_transpose2d: output padding must be smaller than stride or dilation");
    d->p = (d->h - 1) * d->stride_h - 2 * d->pad_h + d->dil_h * (d->r - 1) + d->out_pad_h + 1;
    d->q = (d->w - 1) * d->stride_w - 2 * d->pad_w + d->dil_w * (d->s - 1) + d->out_pad_w + 1;
  } else {
    if (d->out_pad_h || d->out_pad_w)
      return ts_error_set(err, TS_ERR_INVALID, "conv2d: output padding is for transposed convolutions only");
    int eh = d->h + 2 * d->pad_h - d->dil_h * (d->r - 1) - 1;
    int ew = d->w + 2 * d->pad_w - d->dil_w * (d->s - 1) - 1;
    if (eh < 0 || ew < 0)
      return ts_error_set(err, TS_ERR_INVALID, "conv2d: kernel %dx%d (dilation %d,%d) larger than the padded %dx%d input",
                          d->r, d->s, d->dil_h, d->dil_w, d->h, d->w);
    d->p = eh / d->stride_h + 1;
    d->q = ew / d->stride_w + 1;
  }
  if (d->p < 1 || d->q < 1)
    return ts_error_set(err, TS_ERR_INVALID, "conv2d: output size %dx%d is not positive", d->p, d->q);
  return TS_OK;
}

/* The geometry im2col works on: an "image" of ch x ih x iw read by a kernel
 * r x s into a grid oh x ow. For conv2d the image is x and the grid y; for
 * the transposed conv the image is y and the grid x. */
typedef struct Geo {
  int ch, ih, iw, oh, ow, r, s, sh, sw, ph, pw, dh, dw;
} Geo;

static Geo geo_of(const TsConv2dDesc *d) {
  Geo g = {0};
  if (d->transposed) {
    g.ch = d->k / d->groups;
    g.ih = d->p, g.iw = d->q, g.oh = d->h, g.ow = d->w;
  } else {
    g.ch = d->c / d->groups;
    g.ih = d->h, g.iw = d->w, g.oh = d->p, g.ow = d->q;
  }
  g.r = d->r, g.s = d->s, g.sh = d->stride_h, g.sw = d->stride_w;
  g.ph = d->pad_h, g.pw = d->pad_w, g.dh = d->dil_h, g.dw = d->dil_w;
  return g;
}

static int geo_is_identity(const Geo *g) {
  return g->r == 1 && g->s == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* col [ch*r*s, oh*ow] (rows ldc apart) from img [ch, ih, iw] */
TS_NN_CLONES
static void im2col(const Geo *g, const float *img, float *col, size_t ldc) {
  const size_t ohw = ldc;
  for (int c = 0; c < g->ch; c++) {
    const float *plane = img + (size_t)c * g->ih * g->iw;
    for (int kr = 0; kr < g->r; kr++) {
      for (int ks = 0; ks < g->s; ks++) {
        float *row = col + ((size_t)(c * g->r + kr) * g->s + ks) * ohw;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + kr * g->dh;
          float *dst = row + oy * g->ow;
          if (iy < 0 || iy >= g->ih) {
            memset(dst, 0, sizeof(float) * (size_t)g->ow);
            continue;
          }
          const float *src = plane + (size_t)iy * g->iw;
          const int ix0 = -g->pw + ks * g->dw;
          /* output columns ox in [lo, hi) read inside the row */
          int lo = ix0 >= 0 ? 0 : (-ix0 + g->sw - 1) / g->sw;
          int hi = g->iw - ix0 <= 0 ? 0 : (g->iw - ix0 + g->sw - 1) / g->sw;
          if (hi > g->ow) hi = g->ow;
          if (lo > hi) lo = hi;
          for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
          if (g->sw == 1) {
            memcpy(dst + lo, src + ix0 + lo, sizeof(float) * (size_t)(hi - lo));
          } else {
            for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * g->sw + ix0];
          }
          for (int ox = hi; ox < g->ow; ox++) dst[ox] = 0.0f;
        }
      }
    }
  }
}

/* img [ch, ih, iw] += col2im(col), col's rows ldc apart */
TS_NN_CLONES
static void col2im(const Geo *g, const float *col, float *img, size_t ldc) {
  const size_t ohw = ldc;
  for (int c = 0; c < g->ch; c++) {
    float *plane = img + (size_t)c * g->ih * g->iw;
    for (int kr = 0; kr < g->r; kr++) {
      for (int ks = 0; ks < g->s; ks++) {
        const float *row = col + ((size_t)(c * g->r + kr) * g->s + ks) * ohw;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + kr * g->dh;
          if (iy < 0 || iy >= g->ih) continue;
          float *dst = plane + (size_t)iy * g->iw;
          const float *src = row + oy * g->ow;
          const int ix0 = -g->pw + ks * g->dw;
          int lo = ix0 >= 0 ? 0 : (-ix0 + g->sw - 1) / g->sw;
          int hi = g->iw - ix0 <= 0 ? 0 : (g->iw - ix0 + g->sw - 1) / g->sw;
          if (hi > g->ow) hi = g->ow;
          if (g->sw == 1) {
            for (int ox = lo; ox < hi; ox++) dst[ox + ix0] += src[ox];
          } else {
            for (int ox = lo; ox < hi; ox++) dst[ox * g->sw + ix0] += src[ox];
          }
        }
      }
    }
  }
}

static size_t col_size(const TsConv2dDesc *d) {
  Geo g = geo_of(d);
  return (size_t)g.ch * g.r * g.s * g.oh * g.ow;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* 3x3, stride 1, pad 1 (ResNet's dominant case): forward, input and weight
 * gradient by Winograd F(2x2, 3x3) (winograd.c), 2.25x fewer GEMM flops.
 * Measured on ResNet-18 (32x32, batch 64, 2 threads): a training step about
 * 1.5x faster (per CPU-second) than with im2col + SGEMM. */
static int use_wino(const TsConv2dDesc *d) {
  return !d->transposed && d->groups == 1 && d->r == 3 && d->s == 3 && d->stride_h == 1 && d->stride_w == 1 &&
         d->dil_h == 1 && d->dil_w == 1 && d->pad_h == 1 && d->pad_w == 1 && d->w <= TS_WINO_MAX_W;
}

/* floats of the transformed input (or output) of one image */
static size_t wino_size(const TsConv2dDesc *d) {
  return use_wino(d) ? 16 * max_size((size_t)d->c, (size_t)d->k) * (size_t)ts_wino_tiles(d->h, d->w) : 0;
}

static int n_parts(const TsConv2dDesc *d, int deterministic, int nthreads) {
  int parts = deterministic ? DET_PARTS : nthreads;
  if (parts > d->n) parts = d->n;
  return parts < 1 ? 1 : parts;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Images per GEMM. With a small output plane (ResNet's last stages: 4x4)
 * one GEMM per image is narrow and re-reads the whole weight (and, for the
 * weight gradient, the whole partial sum) per image; putting the columns of
 * several images side by side makes the GEMM at least GROUP_COLS wide.
 * Measured on ResNet-18 (32x32, batch 64, 2 threads): forward times about
 * equal, a training step 26.3 against 24.8 images/s without it, which is
 * within the noise of the shared machine; kept because it bounds the
 * per-image weight traffic of deeper, narrower planes. */
#define GROUP_COLS 256
static int group_of(const TsConv2dDesc *d, int n) {
  if (d->transposed) return 1;
  int pq = d->p * d->q;
  int g = pq >= GROUP_COLS ? 1 : (GROUP_COLS + pq - 1) / pq;
  return g < n ? g : (n > 0 ? n : 1);
}

/* Layout: per thread a column buffer, a column-gradient buffer (each for a
 * group of images; Winograd's transformed input and product blocks use the
 * same two) and an output/gradient staging block (col_stride), then one
 * weight-gradient partial per partition, then (Winograd) the transformed
 * kernels. */
static size_t col_cap_of(const TsConv2dDesc *d) {
  return round16(max_size(col_size(d), wino_size(d)) * (size_t)group_of(d, d->n) + 16);
}
static size_t col_stride_of(const TsConv2dDesc *d) {
  size_t G = (size_t)group_of(d, d->n);
  return 2 * col_cap_of(d) + round16((size_t)d->k * d->p * d->q * G + 16);
}
static size_t part_stride_of(const TsConv2dDesc *d) {
  /* Winograd's weight gradient is summed as 16 transformed k x c blocks */
  const size_t wino = use_wino(d) ? 16 * (size_t)d->c * d->k : 0;
  return round16(max_size((size_t)d->c * (d->k / d->groups) * d->r * d->s, wino) + 16);
}

static size_t wx_size_of(const TsConv2dDesc *d) { return use_wino(d) ? round16(16 * (size_t)d->c * d->k + 16) : 0; }

size_t ts_conv2d_scratch_size(const TsConv2dDesc *d, int nthreads) {
  if (nthreads < 1) nthreads = 1;
  int parts = nthreads > DET_PARTS ? nthreads : DET_PARTS;
  if (parts > d->n) parts = d->n;
  /* the partials, then the transformed kernel */
  return (size_t)nthreads * col_stride_of(d) + (size_t)parts * part_stride_of(d) + wx_size_of(d);
}

typedef struct ConvJob {
  const TsConv2dDesc *d;
  Geo g;
  const float *x, *w, *b, *dy;
  float *y, *dx, *dw, *db;
  float *scratch;
  size_t col_stride;  /* floats per thread slot */
  size_t part_stride; /* floats per weight partial */
  float *parts;
  int nparts;
  int wino;       /* use_wino */
  float *wino_u;  /* the transformed kernels (ts_wino_weights) */
} ConvJob;

/* ---- conv2d ------------------------------------------------------------------ */

static void conv_fwd_task(void *ctx, size_t gb, size_t ge, int worker) {
  ConvJob *j = ctx;
  const TsConv2dDesc *d = j->d;
  const int G = d->groups, kg = d->k / G, cg = d->c / G;
  const int pq = d->p * d->q, hw = d->h * d->w;
  const int crs = cg * d->r * d->s;
  const int IG = group_of(d, d->n);
  float *col = j->scratch + (size_t)worker * j->col_stride;
  float *stage = col + 2 * col_cap_of(d);
  for (size_t grp = gb; grp < ge; grp++) {
    const int n0 = (int)grp * IG, n1 = n0 + IG < d->n ? n0 + IG : d->n, cnt = n1 - n0;
    const size_t width = (size_t)cnt * pq;
    if (j->wino) {
      ts_wino_conv(j->wino_u, 0, d->c, d->k, d->h, d->w, cnt, j->x + (size_t)n0 * d->c * hw, (size_t)d->c * hw,
                   j->y + (size_t)n0 * d->k * pq, (size_t)d->k * pq, 0, col, col + col_cap_of(d));
    }
    for (int gi = 0; gi < G && !j->wino; gi++) {
      const float *wg = j->w + (size_t)gi * kg * crs;
      if (cnt == 1) {
        const float *xin = j->x + ((size_t)n0 * d->c + (size_t)gi * cg) * hw;
        const float *cm = xin;
        if (!geo_is_identity(&j->g)) {
          im2col(&j->g, xin, col, (size_t)pq);
          cm = col;
        }
        float *yo = j->y + ((size_t)n0 * d->k + (size_t)gi * kg) * pq;
        ts_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kg, pq, crs, 1.0f, wg, crs, cm, pq, 0.0f, yo, pq);
        continue;
      }
      for (int i = 0; i < cnt; i++)
        im2col(&j->g, j->x + ((size_t)(n0 + i) * d->c + (size_t)gi * cg) * hw, col + (size_t)i * pq, width);
      ts_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kg, (int)width, crs, 1.0f, wg, crs, col, (int)width,
                  0.0f, stage, (int)width);
      for (int i = 0; i < cnt; i++)
        for (int k = 0; k < kg; k++)
          memcpy(j->y + ((size_t)(n0 + i) * d->k + (size_t)gi * kg + k) * pq, stage + (size_t)k * width + (size_t)i * pq,
                 sizeof(float) * (size_t)pq);
    }
    if (j->b) {
      for (int n = n0; n < n1; n++)
        for (int k = 0; k < d->k; k++) {
          float bk = j->b[k];
          float *yo = j->y + ((size_t)n * d->k + k) * pq;
          for (int i = 0; i < pq; i++) yo[i] += bk;
        }
    }
  }
}

/* partition t: images [t n / parts, (t+1) n / parts) */
static void part_range(int n, int parts, size_t t, int *b, int *e) {
  *b = (int)((size_t)n * t / (size_t)parts);
  *e = (int)((size_t)n * (t + 1) / (size_t)parts);
}

static void conv_bwd_task(void *ctx, size_t pb, size_t pe, int worker) {
  ConvJob *j = ctx;
  const TsConv2dDesc *d = j->d;
  const int G = d->groups, kg = d->k / G, cg = d->c / G;
  const int pq = d->p * d->q, hw = d->h * d->w;
  const int crs = cg * d->r * d->s;
  const int ident = geo_is_identity(&j->g);
  const int IG = group_of(d, d->n);
  const size_t colcap = col_cap_of(d);
  float *col = j->scratch + (size_t)worker * j->col_stride;
  float *cgrad = col + colcap;
  float *stage = cgrad + colcap;
  for (size_t t = pb; t < pe; t++) {
    int b, e;
    part_range(d->n, j->nparts, t, &b, &e);
    float *dwp = j->dw ? j->parts + t * j->part_stride : NULL;
    /* the partition's first GEMM writes its partial (beta 0): no memset of it */
    if (dwp && b >= e) memset(dwp, 0, sizeof(float) * (j->wino ? 16 * (size_t)d->k * d->c : (size_t)d->k * crs));
    for (int n0 = b; n0 < e; n0 += IG) {
      const float beta = n0 == b ? 0.0f : 1.0f;
      const int cnt = n0 + IG < e ? IG : e - n0;
      const int width = cnt * pq;
      if (j->wino) {
        if (dwp)
          ts_wino_weight_grad(j->x + (size_t)n0 * d->c * hw, (size_t)d->c * hw, j->dy + (size_t)n0 * d->k * pq,
                              (size_t)d->k * pq, d->c, d->k, d->h, d->w, cnt, beta, dwp, col, cgrad);
        if (j->dx)
          ts_wino_conv(j->wino_u, 1, d->k, d->c, d->h, d->w, cnt, j->dy + (size_t)n0 * d->k * pq, (size_t)d->k * pq,
                       j->dx + (size_t)n0 * d->c * hw, (size_t)d->c * hw, 1, col, cgrad);
        continue;
      }
      for (int gi = 0; gi < G; gi++) {
        const float *wg = j->w + (size_t)gi * kg * crs;
        /* this group's output gradient as a [kg, width] matrix */
        const float *dyb = j->dy + ((size_t)n0 * d->k + (size_t)gi * kg) * pq;
        if (cnt > 1) {
          for (int i = 0; i < cnt; i++)
            for (int k = 0; k < kg; k++)
              memcpy(stage + (size_t)k * width + (size_t)i * pq,
                     j->dy + ((size_t)(n0 + i) * d->k + (size_t)gi * kg + k) * pq, sizeof(float) * (size_t)pq);
          dyb = stage;
        }
        if (dwp) {
          const float *cm;
          if (cnt == 1 && ident) {
            cm = j->x + ((size_t)n0 * d->c + (size_t)gi * cg) * hw;
          } else {
            for (int i = 0; i < cnt; i++)
              im2col(&j->g, j->x + ((size_t)(n0 + i) * d->c + (size_t)gi * cg) * hw, col + (size_t)i * pq,
                     (size_t)width);
            cm = col;
          }
          /* dW_g [kg, crs] += dy [kg, width] * col^T [width, crs] */
          ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kg, crs, width, 1.0f, dyb, width, cm, width, beta,
                      dwp + (size_t)gi * kg * crs, crs);
        }
        if (j->dx) {
          if (cnt == 1 && ident) {
            float *dxin = j->dx + ((size_t)n0 * d->c + (size_t)gi * cg) * hw;
            ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, crs, pq, kg, 1.0f, wg, crs, dyb, pq, 1.0f, dxin, pq);
          } else {
            ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, crs, width, kg, 1.0f, wg, crs, dyb, width, 0.0f,
                        cgrad, width);
            for (int i = 0; i < cnt; i++)
              col2im(&j->g, cgrad + (size_t)i * pq, j->dx + ((size_t)(n0 + i) * d->c + (size_t)gi * cg) * hw,
                     (size_t)width);
          }
        }
      }
    }
  }
}

/* ---- conv_transpose2d ---------------------------------------------------------
 * x [n, c, h, w], w [c, k/G, r, s], y [n, k, p, q]. Per group: the column
 * matrix [kg*r*s, h*w] = W_g^T [kg*r*s, cg] * x_g [cg, h*w], scattered into
 * y by col2im. */

static void convt_fwd_task(void *ctx, size_t b, size_t e, int worker) {
  ConvJob *j = ctx;
  const TsConv2dDesc *d = j->d;
  const int G = d->groups, kg = d->k / G, cg = d->c / G;
  const int pq = d->p * d->q, hw = d->h * d->w;
  const int krs = kg * d->r * d->s;
  float *col = j->scratch + (size_t)worker * j->col_stride;
  for (size_t n = b; n < e; n++) {
    float *yn = j->y + (size_t)n * d->k * pq;
    memset(yn, 0, sizeof(float) * (size_t)d->k * pq);
    for (int gi = 0; gi < G; gi++) {
      const float *xin = j->x + ((size_t)n * d->c + (size_t)gi * cg) * hw;
      const float *wg = j->w + (size_t)gi * cg * krs;
      float *yg = yn + (size_t)gi * kg * pq;
      if (geo_is_identity(&j->g)) {
        ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, krs, hw, cg, 1.0f, wg, krs, xin, hw, 0.0f, yg, hw);
      } else {
        ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, krs, hw, cg, 1.0f, wg, krs, xin, hw, 0.0f, col, hw);
        col2im(&j->g, col, yg, (size_t)hw);
      }
    }
    if (j->b) {
      for (int k = 0; k < d->k; k++) {
        float bk = j->b[k];
        float *yo = yn + (size_t)k * pq;
        for (int i = 0; i < pq; i++) yo[i] += bk;
      }
    }
  }
}

static void convt_bwd_task(void *ctx, size_t pb, size_t pe, int worker) {
  ConvJob *j = ctx;
  const TsConv2dDesc *d = j->d;
  const int G = d->groups, kg = d->k / G, cg = d->c / G;
  const int pq = d->p * d->q, hw = d->h * d->w;
  const int krs = kg * d->r * d->s;
  const int ident = geo_is_identity(&j->g);
  float *col = j->scratch + (size_t)worker * j->col_stride;
  for (size_t t = pb; t < pe; t++) {
    int b, e;
    part_range(d->n, j->nparts, t, &b, &e);
    float *dwp = j->dw ? j->parts + t * j->part_stride : NULL;
    if (dwp) memset(dwp, 0, sizeof(float) * (size_t)d->c * krs);
    for (int n = b; n < e; n++) {
      for (int gi = 0; gi < G; gi++) {
        const float *dyg = j->dy + ((size_t)n * d->k + (size_t)gi * kg) * pq;
        const float *cm = dyg;
        if (!ident) {
          im2col(&j->g, dyg, col, (size_t)hw);
          cm = col;
        }
        const float *xin = j->x + ((size_t)n * d->c + (size_t)gi * cg) * hw;
        if (dwp) /* dW_g [cg, krs] += x_g [cg, hw] * col^T [hw, krs] */
          ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cg, krs, hw, 1.0f, xin, hw, cm, hw, 1.0f,
                      dwp + (size_t)gi * cg * krs, krs);
        if (j->dx) {
          float *dxin = j->dx + ((size_t)n * d->c + (size_t)gi * cg) * hw;
          ts_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cg, hw, krs, 1.0f, j->w + (size_t)gi * cg * krs,
                      krs, cm, hw, 1.0f, dxin, hw);
        }
      }
    }
  }
}

/* ---- shared driver ----------------------------------------------------------- */

static void setup_job(ConvJob *j, const TsNnCtx *ctx, const TsConv2dDesc *d, float *scratch) {
  memset(j, 0, sizeof *j);
  j->d = d;
  j->g = geo_of(d);
  j->scratch = scratch;
  int nt = ts_nn_ctx_threads(ctx);
  j->col_stride = col_stride_of(d);
  j->parts = scratch + (size_t)nt * j->col_stride;
  j->part_stride = part_stride_of(d);
  j->nparts = n_parts(d, ctx ? ctx->deterministic : 0, nt);
  j->wino = use_wino(d);
  /* after the partials of the largest partition count the scratch was sized for */
  int maxparts = nt > DET_PARTS ? nt : DET_PARTS;
  if (maxparts > d->n) maxparts = d->n;
  j->wino_u = j->parts + (size_t)maxparts * j->part_stride;
}

static void wino_weights_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  ConvJob *j = ctx;
  ts_wino_weights(j->w, j->d->k, j->d->c, b, e, j->wino_u);
}

void ts_conv2d_forward(const TsNnCtx *ctx, const TsConv2dDesc *d, const float *x, const float *w,
                       const float *b, float *y, float *scratch) {
  ConvJob j;
  setup_job(&j, ctx, d, scratch);
  j.x = x, j.w = w, j.b = b, j.y = y;
  if (j.wino) ts_nn_for(ctx, (size_t)d->k, 0, 16 * (size_t)d->c, wino_weights_task, &j);
  size_t items = (size_t)d->n;
  if (!d->transposed) {
    size_t IG = (size_t)group_of(d, d->n);
    items = (items + IG - 1) / IG;
  }
  size_t cost = (size_t)d->k * (d->c / d->groups) * d->r * d->s * d->p * d->q * ((size_t)d->n / items);
  ts_nn_for(ctx, items, 1, cost, d->transposed ? convt_fwd_task : conv_fwd_task, &j);
}

typedef struct ReduceJob {
  float *dst;
  const float *parts;
  size_t stride;
  int nparts;
} ReduceJob;

static void reduce_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  ReduceJob *r = ctx;
  for (size_t i = b; i < e; i++) {
    float s = r->parts[i];
    for (int t = 1; t < r->nparts; t++) s += r->parts[(size_t)t * r->stride + i];
    r->dst[i] += s;
  }
}

typedef struct WinoReduceJob {
  const ConvJob *j;
  float *dw;
} WinoReduceJob;

static void wino_reduce_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  WinoReduceJob *r = ctx;
  ts_wino_weight_grad_finish(r->j->parts, r->j->part_stride, r->j->nparts, r->j->d->k, r->j->d->c, b, e, r->dw);
}

void ts_conv2d_backward(const TsNnCtx *ctx, const TsConv2dDesc *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db, float *scratch) {
  if (db) {
    const int pq = d->p * d->q;
    for (int k = 0; k < d->k; k++) {
      double s = 0.0;
      for (int n = 0; n < d->n; n++) {
        const float *v = dy + ((size_t)n * d->k + k) * pq;
        float sn = 0.0f;
        for (int i = 0; i < pq; i++) sn += v[i];
        s += sn;
      }
      db[k] += (float)s;
    }
  }
  if (!dx && !dw) return;
  ConvJob j;
  setup_job(&j, ctx, d, scratch);
  j.x = x, j.w = w, j.dy = dy, j.dx = dx, j.dw = dw;
  if (j.wino && dx) ts_nn_for(ctx, (size_t)d->k, 0, 16 * (size_t)d->c, wino_weights_task, &j);
  size_t cost = 2 * (size_t)d->k * (d->c / d->groups) * d->r * d->s * d->p * d->q * ((size_t)d->n / (size_t)j.nparts + 1);
  ts_nn_for(ctx, (size_t)j.nparts, 1, cost, d->transposed ? convt_bwd_task : conv_bwd_task, &j);
  if (dw && j.wino) {
    WinoReduceJob r = {&j, dw};
    ts_nn_for(ctx, (size_t)d->k * d->c, 256, 16 * (size_t)j.nparts, wino_reduce_task, &r);
  } else if (dw) {
    ReduceJob r = {dw, j.parts, j.part_stride, j.nparts};
    size_t wsize = (size_t)d->c * (d->k / d->groups) * d->r * d->s;
    ts_nn_for(ctx, wsize, 4096, (size_t)j.nparts, reduce_task, &r);
  }
}
