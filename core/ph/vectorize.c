/* vectorize.c — diagrams as vectors (see vectorize.h). */
#include "ph/vectorize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ts_kaji_params_default(TsKajiParams *p, int signed_distance) {
  memset(p, 0, sizeof *p);
  p->dims = 200;
  p->sigma = 1;
  p->weight_power = 1;
  ts_kaji_params_set_max_life(p, 50, 50, signed_distance);
}

void ts_kaji_params_set_max_life(TsKajiParams *p, double life0, double life1, int signed_distance) {
  p->max_life[0] = life0;
  p->max_life[1] = life1;
  for (int i = 0; i < 2; i++) {
    p->max_birth[i] = p->max_life[i];
    p->min_birth[i] = signed_distance ? -p->max_life[i] : 0;
  }
}

/* floor(x) for a quotient that should be an integer but may come out a hair
 * below it in floating point (100 / (100 / 15) = 14.999...). */
static int floor_tol(double x) { return (int)floor(x + 1e-9 * fmax(1.0, fabs(x))); }

TsStatus ts_kaji_pi_grid(double B, double L, int nb, int *p, int *q, double *s, TsError *err) {
  if (!(B > 0) || !(L > 0) || !isfinite(B) || !isfinite(L) || nb < 1)
    return ts_error_set(err, TS_ERR_INVALID,
                        "persistence image grid: birth range %g and max life %g must be positive, bins %d >= 1", B, L, nb);
  double sz = sqrt(B * L / nb);
  int pp = floor_tol(B / sz), qq = floor_tol(L / sz);
  /* each round grows p or q by at least one, so this ends */
  for (int guard = 0; (long)pp * qq < nb; guard++) {
    if (guard > 10000000) return ts_error_set(err, TS_ERR_INTERNAL, "persistence image grid did not converge");
    sz = fmax(B / (pp + 1), L / (qq + 1));
    pp = floor_tol(B / sz);
    qq = floor_tol(L / sz);
  }
  *p = pp;
  *q = qq;
  *s = sz;
  return TS_OK;
}

static double norm_cdf(double x) { return 0.5 * erfc(-x / M_SQRT2); }

static TsStatus check_kaji(const TsKajiParams *p, TsError *err) {
  if (p->dims < 2) return ts_error_set(err, TS_ERR_INVALID, "label dimension %d: need at least 2", p->dims);
  for (int i = 0; i < 2; i++)
    if (!(p->max_life[i] > 0) || !(p->max_birth[i] > p->min_birth[i]))
      return ts_error_set(err, TS_ERR_INVALID, "H%d: max life %g and birth range [%g, %g] must be positive", i,
                          p->max_life[i], p->min_birth[i], p->max_birth[i]);
  if (!(p->sigma > 0)) return ts_error_set(err, TS_ERR_INVALID, "sigma %g must be positive", p->sigma);
  return TS_OK;
}

static int kaji_nb(const TsKajiParams *p, int dim) { return dim == 0 ? p->dims / 2 : p->dims - p->dims / 2; }

TsStatus ts_vec_kaji_persistence_image(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err) {
  TsStatus st = check_kaji(p, err);
  if (st) return st;
  double *o = out;
  for (int dim = 0; dim < 2; dim++) {
    int nb = kaji_nb(p, dim), P, Q;
    double s, B = p->max_birth[dim] - p->min_birth[dim], L = p->max_life[dim];
    if ((st = ts_kaji_pi_grid(B, L, nb, &P, &Q, &s, err))) return st;
    double *cb = malloc(sizeof(double) * (size_t)(P + Q + 2));
    if (!cb) return ts_error_set(err, TS_ERR_NOMEM, "persistence image: out of memory");
    double *cq = cb + P + 1;
    double sd = sqrt(p->sigma); /* sigma is the Gaussian's variance, as Kaji's */
    memset(o, 0, sizeof *o * (size_t)nb);
    for (size_t k = 0; k < d->n; k++) {
      const TsPair *pr = &d->pairs[k];
      if (pr->dim != dim) continue;
      double b = pr->birth, life = fmin(pr->death - pr->birth, L);
      double w = p->weight_power == 0 ? 1 : pow(fmax(life, 0), p->weight_power);
      if (w == 0) continue;
      for (int i = 0; i <= P; i++) cb[i] = norm_cdf((p->min_birth[dim] + i * s - b) / sd);
      for (int j = 0; j <= Q; j++) cq[j] = norm_cdf((j * s - life) / sd);
      for (int i = 0, idx = 0; i < P && idx < nb; i++) {
        double wb = w * (cb[i + 1] - cb[i]);
        for (int j = 0; j < Q && idx < nb; j++, idx++) o[idx] += wb * (cq[j + 1] - cq[j]);
      }
    }
    free(cb);
    for (int i = 0; i < nb; i++) o[i] = sqrt(fabs(o[i]));
    o += nb;
  }
  return TS_OK;
}

TsStatus ts_vec_life_curve(const TsDiagram *d, int dim, double lo, double hi, int n, double max_life, double *out,
                           TsError *err) {
  if (n < 1) return ts_error_set(err, TS_ERR_INVALID, "life curve: %d samples", n);
  for (int k = 0; k < n; k++) {
    double t = n == 1 ? lo : lo + (hi - lo) * k / (n - 1);
    double v = 0;
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *pr = &d->pairs[i];
      if ((dim >= 0 && pr->dim != dim) || !(pr->birth < t && t < pr->death)) continue;
      v += fmin(fmax(pr->death - pr->birth, 0), max_life);
    }
    out[k] = v;
  }
  return TS_OK;
}

TsStatus ts_vec_kaji_life_curve(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err) {
  TsStatus st = check_kaji(p, err);
  if (st) return st;
  double *o = out;
  for (int dim = 0; dim < 2; dim++) {
    int nb = kaji_nb(p, dim);
    if ((st = ts_vec_life_curve(d, dim, p->min_birth[dim], p->max_birth[dim], nb, p->max_life[dim], o, err))) return st;
    for (int i = 0; i < nb; i++) o[i] = sqrt(o[i]);
    o += nb;
  }
  return TS_OK;
}

/* ---- landscapes and silhouettes ------------------------------------- */

static double tent(const TsPair *p, double t) { return fmax(0, fmin(t - p->birth, p->death - t)); }

TsStatus ts_vec_landscape(const TsDiagram *d, int dim, int k, double lo, double hi, int n, double *out, TsError *err) {
  if (k < 1 || n < 1) return ts_error_set(err, TS_ERR_INVALID, "landscape: %d levels, %d samples", k, n);
  double *top = calloc((size_t)k, sizeof *top);
  if (!top) return ts_error_set(err, TS_ERR_NOMEM, "landscape: out of memory");
  for (int s = 0; s < n; s++) {
    double t = n == 1 ? lo : lo + (hi - lo) * s / (n - 1);
    memset(top, 0, sizeof *top * (size_t)k);
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *p = &d->pairs[i];
      if ((dim >= 0 && p->dim != dim) || isinf(p->death)) continue;
      double v = tent(p, t);
      if (v <= top[k - 1]) continue;
      int j = k - 1; /* insertion into the descending top-k */
      while (j > 0 && top[j - 1] < v) top[j] = top[j - 1], j--;
      top[j] = v;
    }
    for (int l = 0; l < k; l++) out[(size_t)l * n + s] = top[l];
  }
  free(top);
  return TS_OK;
}

TsStatus ts_vec_kaji_landscape(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err) {
  TsStatus st = check_kaji(p, err);
  if (st) return st;
  double *o = out;
  for (int dim = 0; dim < 2; dim++) {
    int nb = kaji_nb(p, dim), ns = nb / 2;
    TsDiagram clipped;
    ts_diagram_init(&clipped);
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *pr = &d->pairs[i];
      if (pr->dim != dim) continue;
      if ((st = ts_diagram_add(&clipped, dim, pr->birth, isinf(pr->death) ? fmax(p->max_birth[dim], pr->birth) : pr->death,
                               err))) {
        ts_diagram_clear(&clipped);
        return st;
      }
    }
    memset(o, 0, sizeof *o * (size_t)nb);
    if (ns > 0) st = ts_vec_landscape(&clipped, dim, 2, p->min_birth[dim], p->max_birth[dim], ns, o, err);
    ts_diagram_clear(&clipped);
    if (st) return st;
    for (int i = 0; i < nb; i++) o[i] = sqrt(o[i]);
    o += nb;
  }
  return TS_OK;
}

TsStatus ts_vec_silhouette(const TsDiagram *d, int dim, double power, double lo, double hi, int n, double *out,
                           TsError *err) {
  if (n < 1) return ts_error_set(err, TS_ERR_INVALID, "silhouette: %d samples", n);
  double wsum = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if ((dim >= 0 && p->dim != dim) || isinf(p->death)) continue;
    wsum += pow(fabs(p->death - p->birth), power);
  }
  for (int s = 0; s < n; s++) {
    double t = n == 1 ? lo : lo + (hi - lo) * s / (n - 1), v = 0;
    for (size_t i = 0; i < d->n && wsum > 0; i++) {
      const TsPair *p = &d->pairs[i];
      if ((dim >= 0 && p->dim != dim) || isinf(p->death)) continue;
      v += pow(fabs(p->death - p->birth), power) * tent(p, t);
    }
    out[s] = wsum > 0 ? v / wsum : 0;
  }
  return TS_OK;
}

/* ---- Betti curves and histograms ------------------------------------ */

TsStatus ts_vec_betti_curve(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err) {
  if (n < 1) return ts_error_set(err, TS_ERR_INVALID, "Betti curve: %d samples", n);
  for (int s = 0; s < n; s++) {
    double t = n == 1 ? lo : lo + (hi - lo) * s / (n - 1);
    size_t c = 0;
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *p = &d->pairs[i];
      c += (dim < 0 || p->dim == dim) && p->birth <= t && t < p->death;
    }
    out[s] = (double)c;
  }
  return TS_OK;
}

/* np.histogram's bin of x over [lo, hi] in n bins: -1 outside, the last bin closed. */
static int hist_bin(double x, double lo, double hi, int n) {
  if (!(x >= lo && x <= hi)) return -1;
  if (x == hi) return n - 1;
  int b = (int)((x - lo) / (hi - lo) * n);
  return b < 0 ? 0 : b >= n ? n - 1 : b;
}

static TsStatus check_hist(double lo, double hi, int n, TsError *err) {
  if (n < 1 || !(hi > lo) || !isfinite(lo) || !isfinite(hi))
    return ts_error_set(err, TS_ERR_INVALID, "histogram: range [%g, %g] with %d bins", lo, hi, n);
  return TS_OK;
}

TsStatus ts_vec_lifetime_histogram(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err) {
  TsStatus st = check_hist(lo, hi, n, err);
  if (st) return st;
  memset(out, 0, sizeof *out * (size_t)n);
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if ((dim >= 0 && p->dim != dim) || isinf(p->death)) continue;
    int b = hist_bin(fmin(p->death - p->birth, hi), lo, hi, n);
    if (b >= 0) out[b] += 1;
  }
  return TS_OK;
}

TsStatus ts_vec_birth_histogram(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err) {
  TsStatus st = check_hist(lo, hi, n, err);
  if (st) return st;
  memset(out, 0, sizeof *out * (size_t)n);
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if ((dim >= 0 && p->dim != dim) || isinf(p->death)) continue;
    int b = hist_bin(p->birth, lo, hi, n);
    if (b >= 0) out[b] += p->death - p->birth;
  }
  return TS_OK;
}

TsStatus ts_vec_kaji_histogram(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err) {
  TsStatus st = check_kaji(p, err);
  if (st) return st;
  int nb = p->dims / 4;
  if (nb < 1) return ts_error_set(err, TS_ERR_INVALID, "histogram label: dimension %d < 4", p->dims);
  memset(out, 0, sizeof *out * (size_t)p->dims);
  for (int dim = 0; dim < 2; dim++) {
    double *hl = out + dim * nb, *hb = out + (2 + dim) * nb;
    if ((st = ts_vec_lifetime_histogram(d, dim, 0, p->max_life[dim], nb, hl, err))) return st;
    if ((st = ts_vec_birth_histogram(d, dim, p->min_birth[dim], p->max_birth[dim], nb, hb, err))) return st;
    for (int i = 0; i < nb; i++) {
      double lin = nb == 1 ? 0 : p->max_life[dim] * i / (nb - 1);
      hl[i] = log1p(hl[i] * (1 + lin));
      hb[i] = log1p(hb[i]);
    }
  }
  return TS_OK;
}

/* ---- general persistence image --------------------------------------- */

void ts_pi_params_default(TsPiParams *p) {
  memset(p, 0, sizeof *p);
  p->birth_max = p->pers_max = 1;
  p->nbirth = p->npers = 20;
  p->sigma = 0.1;
  p->weight_power = 1;
  p->max_pers = INFINITY;
}

TsStatus ts_vec_persistence_image(const TsDiagram *d, int dim, const TsPiParams *p, double *out, TsError *err) {
  if (p->nbirth < 1 || p->npers < 1 || !(p->sigma > 0) || !(p->birth_max > p->birth_min) ||
      !(p->pers_max > p->pers_min))
    return ts_error_set(err, TS_ERR_INVALID, "persistence image: bad grid %dx%d over [%g,%g]x[%g,%g] or sigma %g",
                        p->nbirth, p->npers, p->birth_min, p->birth_max, p->pers_min, p->pers_max, p->sigma);
  size_t nb = (size_t)p->nbirth, nq = (size_t)p->npers;
  double *fb = malloc(sizeof(double) * (nb + nq + 2));
  if (!fb) return ts_error_set(err, TS_ERR_NOMEM, "persistence image: out of memory");
  double *fq = fb + nb + 1;
  memset(out, 0, sizeof *out * nb * nq);
  double db = (p->birth_max - p->birth_min), dq = (p->pers_max - p->pers_min);
  for (size_t k = 0; k < d->n; k++) {
    const TsPair *pr = &d->pairs[k];
    if (dim >= 0 && pr->dim != dim) continue;
    if (isinf(pr->death) && !isfinite(p->max_pers)) continue;
    double b = pr->birth, y = fmin(pr->death - pr->birth, p->max_pers);
    double w = p->weight_power == 0 ? 1 : pow(fmax(y, 0), p->weight_power);
    if (p->sample) {
      /* GUDHI: density of N((b, y), sigma^2 I) at grid points */
      double c = w / (2 * M_PI * p->sigma * p->sigma);
      for (size_t i = 0; i < nb; i++) {
        double x = nb == 1 ? p->birth_min : p->birth_min + db * (double)i / (double)(nb - 1);
        fb[i] = exp(-(x - b) * (x - b) / (2 * p->sigma * p->sigma));
      }
      for (size_t j = 0; j < nq; j++) {
        double v = nq == 1 ? p->pers_min : p->pers_min + dq * (double)j / (double)(nq - 1);
        fq[j] = exp(-(v - y) * (v - y) / (2 * p->sigma * p->sigma));
      }
      for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < nq; j++) out[i * nq + j] += c * fb[i] * fq[j];
    } else {
      for (size_t i = 0; i <= nb; i++) fb[i] = norm_cdf((p->birth_min + db * (double)i / (double)nb - b) / p->sigma);
      for (size_t j = 0; j <= nq; j++) fq[j] = norm_cdf((p->pers_min + dq * (double)j / (double)nq - y) / p->sigma);
      for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < nq; j++) out[i * nq + j] += w * (fb[i + 1] - fb[i]) * (fq[j + 1] - fq[j]);
    }
  }
  free(fb);
  return TS_OK;
}

/* ---- scalar summaries ------------------------------------------------ */

double ts_vec_entropy(const TsDiagram *d, int dim, double min_life) {
  double L = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    double l = p->death - p->birth;
    if ((dim < 0 || p->dim == dim) && isfinite(l) && l > min_life && l > 0) L += l;
  }
  if (!(L > 0)) return 0;
  double h = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    double l = p->death - p->birth;
    if ((dim < 0 || p->dim == dim) && isfinite(l) && l > min_life && l > 0) h -= l / L * log(l / L);
  }
  return h;
}

void ts_diagram_stats(const TsDiagram *d, int dim, double power, double alpha, double min_life, TsDiagramStats *out) {
  memset(out, 0, sizeof *out);
  size_t finite = 0;
  double life_sum = 0, mid_sum = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if (dim >= 0 && p->dim != dim) continue;
    out->count++;
    if (isinf(p->death)) {
      out->essential++;
      continue;
    }
    double l = p->death - p->birth;
    finite++;
    life_sum += l;
    mid_sum += 0.5 * (p->birth + p->death);
    out->total_persistence += pow(fabs(l), power);
    out->lifespan_sum += 0.5 * pow(fabs(l), alpha);
    if (l > out->max_life) out->max_life = l;
  }
  if (finite) {
    out->average_life = life_sum / (double)finite;
    out->midlife = mid_sum / (double)finite;
  }
  out->entropy = ts_vec_entropy(d, dim, min_life);
}

/* ---- label types ------------------------------------------------------ */

static const char *const label_names[] = {"persistence-image", "life-curve", "betti-curve", "landscape", "histogram"};

const char *ts_label_type_name(TsLabelType t) {
  return (unsigned)t < sizeof label_names / sizeof *label_names ? label_names[t] : "?";
}

int ts_label_type_parse(const char *name) {
  for (size_t i = 0; i < sizeof label_names / sizeof *label_names; i++)
    if (strcmp(name, label_names[i]) == 0) return (int)i;
  if (strcmp(name, "pi") == 0 || strcmp(name, "persistence_image") == 0) return TS_LABEL_PERSISTENCE_IMAGE;
  if (strcmp(name, "life_curve") == 0 || strcmp(name, "betticurve") == 0) return TS_LABEL_LIFE_CURVE;
  return -1;
}

TsStatus ts_kaji_label(const TsDiagram *d, TsLabelType t, const TsKajiParams *p, double *out, TsError *err) {
  switch (t) {
  case TS_LABEL_PERSISTENCE_IMAGE: return ts_vec_kaji_persistence_image(d, p, out, err);
  case TS_LABEL_LIFE_CURVE: return ts_vec_kaji_life_curve(d, p, out, err);
  case TS_LABEL_LANDSCAPE: return ts_vec_kaji_landscape(d, p, out, err);
  case TS_LABEL_HISTOGRAM: return ts_vec_kaji_histogram(d, p, out, err);
  case TS_LABEL_BETTI_CURVE: {
    TsStatus st = check_kaji(p, err);
    if (st) return st;
    int n0 = kaji_nb(p, 0);
    if ((st = ts_vec_betti_curve(d, 0, p->min_birth[0], p->max_birth[0], n0, out, err))) return st;
    return ts_vec_betti_curve(d, 1, p->min_birth[1], p->max_birth[1], kaji_nb(p, 1), out + n0, err);
  }
  }
  return ts_error_set(err, TS_ERR_INVALID, "unknown label type %d", (int)t);
}
