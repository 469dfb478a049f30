/* winograd.c — 3x3, stride-1, pad-1 convolution by Winograd's F(2x2, 3x3).
 *
 * Each 2x2 output tile comes from a 4x4 input tile: V = B^T d B per input
 * channel, then for each of the 16 transformed positions one GEMM over the
 * channels, M_e [cout, T] = U_e [cout, cin] * V_e [cin, T] with U = G g G^T,
 * and the output tile Y = A^T m A. That is 16 multiplies per tile and
 * channel pair instead of 36: 2.25x fewer GEMM flops than im2col + SGEMM,
 * and the transformed input is 4x (not 9x) the size of the input. The
 * transforms only add, subtract and halve, so the rounding stays at the
 * level of a reordered sum (checked against PyTorch in tests/nn). */
#include "nn/winograd.h"

#include <string.h>

#include "nn/blas.h"

#include "nn/simd.h"

int ts_wino_tiles(int h, int w) { return ((h + 1) / 2) * ((w + 1) / 2); }

/* Blocks of WB input channels: the 9 taps are gathered into rows first so
 * that the transform runs along the channels, vectorised. */
#define WB 64
TS_NN_CLONES
void ts_wino_weights(const float *w, int k, int c, size_t b, size_t e, float *u) {
  float g[9][WB], t[4][3][WB];
  for (size_t o = b; o < e; o++) {
    for (int i0 = 0; i0 < c; i0 += WB) {
      const int nb = c - i0 < WB ? c - i0 : WB;
      const float *src = w + ((size_t)o * c + i0) * 9; /* from input channels i0.. to output channel o */
      for (int q = 0; q < nb; q++)
        for (int tap = 0; tap < 9; tap++) g[tap][q] = src[(size_t)q * 9 + tap];
      for (int s = 0; s < 3; s++) /* G g */
        for (int q = 0; q < nb; q++) {
          t[0][s][q] = g[s][q];
          t[1][s][q] = 0.5f * (g[s][q] + g[3 + s][q] + g[6 + s][q]);
          t[2][s][q] = 0.5f * (g[s][q] - g[3 + s][q] + g[6 + s][q]);
          t[3][s][q] = g[6 + s][q];
        }
      for (int r = 0; r < 4; r++) { /* (G g) G^T */
        float *u0 = u + ((size_t)(r * 4 + 0) * k + o) * c + i0, *u1 = u + ((size_t)(r * 4 + 1) * k + o) * c + i0;
        float *u2 = u + ((size_t)(r * 4 + 2) * k + o) * c + i0, *u3 = u + ((size_t)(r * 4 + 3) * k + o) * c + i0;
        const float *t0 = t[r][0], *t1 = t[r][1], *t2 = t[r][2];
        for (int q = 0; q < nb; q++) {
          u0[q] = t0[q];
          u1[q] = 0.5f * (t0[q] + t1[q] + t2[q]);
          u2[q] = 0.5f * (t0[q] - t1[q] + t2[q]);
          u3[q] = t2[q];
        }
      }
    }
  }
}

/* Both transforms work on one row of tiles at a time with the tile column
 * tx as the inner, contiguous loop, so the compiler vectorises them and V
 * and M are written and read as 16 contiguous streams. */
#define WINO_MAX_TW 256 /* widest row of tiles (TS_WINO_MAX_W) */

/* d B for one input row (zero outside the image): hb[s][tx] for the tile
 * columns tx. The row is split into its odd and even columns first, so the
 * four combinations are contiguous loops. Inlined into the (cloned)
 * caller, so it is compiled for the caller's instruction set. */
TS_NN_INLINE
static void row_times_b(const float *x, int w, int tw, float *hb) {
  float ev[WINO_MAX_TW + 1], od[WINO_MAX_TW + 1]; /* ev[i] = x[2i - 1], od[i] = x[2i], 0 outside */
  ev[0] = 0.0f;
  for (int i = 1; i < tw; i++) ev[i] = x[2 * i - 1];
  ev[tw] = w == 2 * tw ? x[w - 1] : 0.0f;
  for (int i = 0; i < tw; i++) od[i] = x[2 * i];
  od[tw] = 0.0f;
  float *h0 = hb, *h1 = hb + tw, *h2 = hb + 2 * tw, *h3 = hb + 3 * tw;
  for (int tx = 0; tx < tw; tx++) {
    h0[tx] = ev[tx] - ev[tx + 1];
    h1[tx] = od[tx] + ev[tx + 1];
    h2[tx] = ev[tx + 1] - od[tx];
    h3[tx] = od[tx] - od[tx + 1];
  }
}

/* V [16, ch, T] (columns t0.. of each row) from cnt images of ch x h x w */
TS_NN_CLONES
static void input_transform(const float *x, size_t img_stride, int cnt, int ch, int h, int w, float *v, int T) {
  const int th = (h + 1) / 2, tw = (w + 1) / 2;
  const size_t plane16 = (size_t)ch * T;
  /* d B of input rows 2 ty - 1 .. 2 ty + 2 in slots (iy + 1) % 4: each row
   * serves two tile rows and is transformed once */
  float hb[4][4 * WINO_MAX_TW];
  for (int n = 0; n < cnt; n++)
    for (int c = 0; c < ch; c++) {
      const float *p = x + (size_t)n * img_stride + (size_t)c * h * w;
      float *vc = v + (size_t)c * T + (size_t)n * th * tw;
      for (int ty = 0; ty < th; ty++) {
        for (int r = ty == 0 ? 0 : 2; r < 4; r++) {
          const int iy = 2 * ty - 1 + r;
          float *slot = hb[(iy + 1) & 3];
          if (iy >= 0 && iy < h)
            row_times_b(p + (size_t)iy * w, w, tw, slot);
          else
            memset(slot, 0, sizeof(float) * 4 * (size_t)tw);
        }
        float *o = vc + (size_t)ty * tw;
        const float *r0 = hb[(2 * ty) & 3], *r1 = hb[(2 * ty + 1) & 3], *r2 = hb[(2 * ty + 2) & 3],
                    *r3 = hb[(2 * ty + 3) & 3];
        for (int s = 0; s < 4; s++) { /* B^T (d B) */
          const float *a0 = r0 + s * tw, *a1 = r1 + s * tw, *a2 = r2 + s * tw, *a3 = r3 + s * tw;
          float *o0 = o + (size_t)(0 + s) * plane16, *o1 = o + (size_t)(4 + s) * plane16;
          float *o2 = o + (size_t)(8 + s) * plane16, *o3 = o + (size_t)(12 + s) * plane16;
          for (int tx = 0; tx < tw; tx++) {
            o0[tx] = a0[tx] - a2[tx];
            o1[tx] = a1[tx] + a2[tx];
            o2[tx] = a2[tx] - a1[tx];
            o3[tx] = a1[tx] - a3[tx];
          }
        }
      }
    }
}

/* y (=, or += when accumulate) A^T m A from M [16, ch, T] */
TS_NN_CLONES
static void output_transform(const float *m, int ch, int h, int w, int T, float *y, size_t img_stride, int cnt,
                             int accumulate) {
  const int th = (h + 1) / 2, tw = (w + 1) / 2;
  const size_t plane16 = (size_t)ch * T;
  float u[2][4][WINO_MAX_TW];   /* A^T m, per tile column */
  float orow[2][2 * WINO_MAX_TW]; /* the two output rows */
  for (int n = 0; n < cnt; n++)
    for (int c = 0; c < ch; c++) {
      float *p = y + (size_t)n * img_stride + (size_t)c * h * w;
      const float *mc = m + (size_t)c * T + (size_t)n * th * tw;
      for (int ty = 0; ty < th; ty++) {
        const float *q = mc + (size_t)ty * tw;
        for (int s = 0; s < 4; s++) {
          const float *a0 = q + (size_t)(0 + s) * plane16, *a1 = q + (size_t)(4 + s) * plane16;
          const float *a2 = q + (size_t)(8 + s) * plane16, *a3 = q + (size_t)(12 + s) * plane16;
          float *u0 = u[0][s], *u1 = u[1][s];
          for (int tx = 0; tx < tw; tx++) {
            u0[tx] = a0[tx] + a1[tx] + a2[tx];
            u1[tx] = a1[tx] - a2[tx] - a3[tx];
          }
        }
        for (int r = 0; r < 2; r++) {
          const float *b0 = u[r][0], *b1 = u[r][1], *b2 = u[r][2], *b3 = u[r][3];
          float *o = orow[r];
          for (int tx = 0; tx < tw; tx++) {
            o[2 * tx] = b0[tx] + b1[tx] + b2[tx];
            o[2 * tx + 1] = b1[tx] - b2[tx] - b3[tx];
          }
          const int oy = 2 * ty + r;
          if (oy >= h) break;
          float *row = p + (size_t)oy * w;
          if (accumulate)
            for (int i = 0; i < w; i++) row[i] += o[i];
          else
            memcpy(row, o, sizeof(float) * (size_t)w);
        }
      }
    }
}

/* Yg [16, ch, T] = A dy A^T per 2x2 tile of the output gradient dy (cnt
 * images of ch x h x w): the gradient with respect to the 16 transformed
 * products, for the weight gradient. */
TS_NN_CLONES
static void grad_transform(const float *dy, size_t img_stride, int cnt, int ch, int h, int w, float *yg, int T) {
  const int th = (h + 1) / 2, tw = (w + 1) / 2;
  const size_t plane16 = (size_t)ch * T;
  float row[2 * WINO_MAX_TW];
  float hb[2][4][WINO_MAX_TW]; /* hb[r][j][tx]: row r of the tile times A^T */
  for (int n = 0; n < cnt; n++)
    for (int c = 0; c < ch; c++) {
      const float *p = dy + (size_t)n * img_stride + (size_t)c * h * w;
      float *vc = yg + (size_t)c * T + (size_t)n * th * tw;
      for (int ty = 0; ty < th; ty++) {
        for (int r = 0; r < 2; r++) {
          const int iy = 2 * ty + r;
          if (iy < h) {
            memcpy(row, p + (size_t)iy * w, sizeof(float) * (size_t)w);
            if (w & 1) row[w] = 0.0f;
          } else {
            memset(row, 0, sizeof(float) * (size_t)(2 * tw));
          }
          float *h0 = hb[r][0], *h1 = hb[r][1], *h2 = hb[r][2], *h3 = hb[r][3];
          for (int tx = 0; tx < tw; tx++) {
            const float d0 = row[2 * tx], d1 = row[2 * tx + 1];
            h0[tx] = d0;
            h1[tx] = d0 + d1;
            h2[tx] = d0 - d1;
            h3[tx] = -d1;
          }
        }
        float *o = vc + (size_t)ty * tw;
        for (int j = 0; j < 4; j++) {
          const float *a0 = hb[0][j], *a1 = hb[1][j];
          float *o0 = o + (size_t)(0 + j) * plane16, *o1 = o + (size_t)(4 + j) * plane16;
          float *o2 = o + (size_t)(8 + j) * plane16, *o3 = o + (size_t)(12 + j) * plane16;
          for (int tx = 0; tx < tw; tx++) {
            o0[tx] = a0[tx];
            o1[tx] = a0[tx] + a1[tx];
            o2[tx] = a0[tx] - a1[tx];
            o3[tx] = -a1[tx];
          }
        }
      }
    }
}

void ts_wino_weight_grad(const float *x, size_t x_stride, const float *dy, size_t dy_stride, int c, int k, int h, int w,
                         int cnt, float beta, float *du, float *v, float *yg) {
  const int T = cnt * ts_wino_tiles(h, w);
  input_transform(x, x_stride, cnt, c, h, w, v, T);
  grad_transform(dy, dy_stride, cnt, k, h, w, yg, T);
  for (int e = 0; e < 16; e++)
    ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, c, T, 1.0f, yg + (size_t)e * k * T, T,
                v + (size_t)e * c * T, T, beta, du + (size_t)e * k * c, c);
}

TS_NN_CLONES
void ts_wino_weight_grad_finish(const float *parts, size_t part_stride, int nparts, int k, int c, size_t b, size_t e,
                                float *dw) {
  const size_t kc = (size_t)k * c;
  for (size_t i = b; i < e; i++) { /* i = o c + ci: dw[o, ci] += G^T dU G */
    float u[4][4];
    for (int q = 0; q < 16; q++) {
      float sum = parts[(size_t)q * kc + i];
      for (int t = 1; t < nparts; t++) sum += parts[(size_t)t * part_stride + (size_t)q * kc + i];
      u[q / 4][q % 4] = sum;
    }
    float t[3][4]; /* G^T dU */
    for (int j = 0; j < 4; j++) {
      t[0][j] = u[0][j] + 0.5f * (u[1][j] + u[2][j]);
      t[1][j] = 0.5f * (u[1][j] - u[2][j]);
      t[2][j] = 0.5f * (u[1][j] + u[2][j]) + u[3][j];
    }
    float *g = dw + i * 9;
    for (int r = 0; r < 3; r++) { /* (G^T dU) G */
      g[r * 3 + 0] += t[r][0] + 0.5f * (t[r][1] + t[r][2]);
      g[r * 3 + 1] += 0.5f * (t[r][1] - t[r][2]);
      g[r * 3 + 2] += 0.5f * (t[r][1] + t[r][2]) + t[r][3];
    }
  }
}

/* The input gradient is the convolution of dy with each kernel rotated by
 * 180 degrees and the channels swapped. With J the reversal, G J3 = J4 P G
 * (P swaps rows 1 and 2), so G (J g J) G^T is G g G^T with its rows and
 * columns permuted by FLIP: the forward's transformed kernels serve the
 * backward, read transposed, with no transform of their own. */
static const int FLIP[4] = {3, 1, 2, 0};

void ts_wino_conv(const float *u, int input_grad, int cin, int cout, int h, int w, int cnt, const float *x,
                  size_t x_stride, float *y, size_t y_stride, int accumulate, float *v, float *m) {
  const int T = cnt * ts_wino_tiles(h, w);
  input_transform(x, x_stride, cnt, cin, h, w, v, T);
  for (int e = 0; e < 16; e++) {
    if (input_grad) { /* u [16, cin, cout] */
      const float *ue = u + (size_t)(FLIP[e / 4] * 4 + FLIP[e % 4]) * cout * cin;
      ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cout, T, cin, 1.0f, ue, cout, v + (size_t)e * cin * T, T,
                  0.0f, m + (size_t)e * cout * T, T);
    } else {
      ts_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, T, cin, 1.0f, u + (size_t)e * cout * cin, cin,
                  v + (size_t)e * cin * T, T, 0.0f, m + (size_t)e * cout * T, T);
    }
  }
  output_transform(m, cout, h, w, T, y, y_stride, cnt, accumulate);
}
