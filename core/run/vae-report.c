/* vae-report.c — a (Topo)VAE run's per-epoch picture grid and latent codes
 * (see objective-vae.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/rng.h"
#include "image/codec.h"
#include "run/objective-vae.h"

enum { COLS = 8, TILE = 28 };

static void put_tile(uint8_t *img, size_t W, int row, int col, const float *v) {
  for (int y = 0; y < TILE; y++)
    for (int x = 0; x < TILE; x++) {
      float p = v[y * TILE + x];
      p = p < 0 ? 0 : p > 1 ? 1 : p;
      img[(size_t)(row * (TILE + 1) + 1 + y) * W + (size_t)(col * (TILE + 1) + 1 + x)] = (uint8_t)lrintf(255 * p);
    }
}

/* The latent means of the first n images, with their classes, as a series. */
static TsStatus latent_series(TsModel *m, const TsNnCtx *ctx, const TsDataset *val, const float *x, int n,
                              TsStore *store, int64_t run, int64_t step, const char *name, TsError *err) {
  const int L = ts_model_config(m)->latent, mb = ts_model_max_batch(m);
  double *rows = malloc((size_t)n * (size_t)(L + 1) * sizeof *rows);
  if (!rows) return ts_error_set(err, TS_ERR_NOMEM, "latent codes");
  for (int i0 = 0; i0 < n; i0 += mb) {
    int b = n - i0 < mb ? n - i0 : mb;
    ts_model_forward(m, ctx, x + (size_t)i0 * TILE * TILE, b, 0, 0);
    const TsTensor *mu = ts_model_output(m, 1);
    for (int i = 0; i < b; i++) {
      for (int k = 0; k < L; k++) rows[(size_t)(i0 + i) * (L + 1) + k] = mu->data[(size_t)i * L + k];
      rows[(size_t)(i0 + i) * (L + 1) + L] = val->labels ? val->labels[i0 + i] : 0;
    }
  }
  TsStatus st = ts_store_series(store, run, step, name, rows, n, L + 1, err);
  free(rows);
  return st;
}

TsStatus ts_vae_epoch_report(TsObjective *o, TsModel *main, const TsNnCtx *ctx, const TsDataset *val, int n_latent,
                             uint64_t seed, TsStore *store, int64_t run, int64_t step, int64_t epoch, TsError *err) {
  (void)epoch;
  if (!val || !store || val->count < 1) return TS_OK;
  if (val->channels != 1 || val->height != TILE || val->width != TILE)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "VAE report: images of %d x %d x %d (needs 1 x 28 x 28)",
                        val->channels, val->height, val->width);
  TsModel *plain = ts_objective_vae_plain(o);
  int n = n_latent > COLS ? n_latent : COLS;
  if (n > val->count) n = (int)val->count;
  const int L = ts_model_config(main)->latent;
  float *x = malloc((size_t)n * TILE * TILE * sizeof *x), *z = malloc((size_t)COLS * (size_t)L * sizeof *z);
  if (!x || !z) {
    free(x);
    free(z);
    return ts_error_set(err, TS_ERR_NOMEM, "VAE report");
  }
  for (size_t k = 0; k < (size_t)n * TILE * TILE; k++) x[k] = val->pixels[k] / 255.0f;
  TsRng r;
  ts_rng_init(&r, seed, (uint64_t)step);
  for (size_t k = 0; k < (size_t)COLS * (size_t)L; k++) z[k] = (float)ts_rng_normal(&r);
  const int cols = n < COLS ? n : COLS, rows = plain ? 5 : 3;
  size_t W = (size_t)COLS * (TILE + 1) + 1, H = (size_t)rows * (TILE + 1) + 1;
  TsArray a;
  size_t shape[2] = {H, W};
  TsStatus st = ts_array_alloc(&a, 2, shape, TS_U8, err);
  if (st) goto done;
  uint8_t *img = a.data;
  memset(img, 128, H * W);
  int row = 0;
  for (int c = 0; c < cols; c++) put_tile(img, W, row, c, x + (size_t)c * TILE * TILE);
  row++;
  TsModel *recon[2] = {plain, main};
  for (int k = 0; k < 2; k++) {
    if (!recon[k]) continue;
    ts_model_forward(recon[k], ctx, x, cols, 0, 0);
    const TsTensor *out = ts_model_output(recon[k], 0);
    for (int c = 0; c < cols; c++) put_tile(img, W, row, c, out->data + (size_t)c * TILE * TILE);
    row++;
  }
  TsModel *gen[2] = {main, plain};
  for (int k = 0; k < 2 && !st; k++) {
    if (!gen[k]) continue;
    if ((st = ts_model_decode(gen[k], ctx, z, COLS, err))) break;
    const TsTensor *out = ts_model_output(gen[k], 0);
    for (int c = 0; c < COLS; c++) put_tile(img, W, row, c, out->data + (size_t)c * TILE * TILE);
    row++;
  }
  uint8_t *png = NULL;
  size_t png_n = 0;
  if (!st) st = ts_png_encode(&a, &png, &png_n, err);
  if (!st) st = ts_store_blob(store, run, step, "vae/grid", "image/png", png, png_n, err);
  free(png);
  ts_array_clear(&a);
  if (!st && n_latent > 0) {
    int nl = n_latent < n ? n_latent : n;
    int topo = plain != NULL;
    for (int k = 0; k < 7; k++) topo |= o->cfg.topo_weights[k] != 0;
    st = latent_series(main, ctx, val, x, nl, store, run, step, topo ? "topovae/latent" : "vae/latent", err);
    if (!st && plain) st = latent_series(plain, ctx, val, x, nl, store, run, step, "vae/latent", err);
  }
done:
  free(x);
  free(z);
  return st;
}
