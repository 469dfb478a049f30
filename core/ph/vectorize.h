/* vectorize.h — diagrams as fixed-length vectors (Kaji's labels, layer lifespans,
 * dnn-topology's summaries: README, Methods).
 *
 * Kaji's PH labels (persistence image, life curve, landscape, histogram),
 * and the general summaries: Betti curves, landscapes, entropy, lifespans. */
#ifndef TS_PH_VECTORIZE_H
#define TS_PH_VECTORIZE_H

#include <stddef.h>

#include "base/error.h"
#include "ph/diagram.h"

/* Kaji's label parameters for H0 and H1 (index = dimension). */
typedef struct TsKajiParams {
  int dims;            /* nd: total label length, split evenly over H0, H1 (default 200) */
  double max_life[2];  /* default 50, 50 (README uses 80, 60) */
  double min_birth[2]; /* -max_life for signed distance, else 0 */
  double max_birth[2]; /* = max_life */
  double sigma;        /* Gaussian variance, default 1 */
  double weight_power; /* weight (d - b)^n, default 1 */
} TsKajiParams;

/* Fills the defaults; signed_distance picks min_birth = -max_life. */
void ts_kaji_params_default(TsKajiParams *p, int signed_distance);
/* Recomputes min/max birth after max_life changed. */
void ts_kaji_params_set_max_life(TsKajiParams *p, double life0, double life1, int signed_distance);

/* Kaji's persistence-image grid for birth range B, life range L, nb pixels:
 * pixel size s, p birth bins and q persistence bins (p*q >= nb). */
TsStatus ts_kaji_pi_grid(double B, double L, int nb, int *p, int *q, double *s, TsError *err);

/* Kaji's persistence image label: out has p->dims values [PI_0, PI_1]. */
TsStatus ts_vec_kaji_persistence_image(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err);
/* Kaji's 'betticurve' (a life curve): out has p->dims values. */
TsStatus ts_vec_kaji_life_curve(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err);

/* Kaji's persistence landscape label: per dimension nb = dims/2 values, the
 * first 2 landscapes sampled at nb/2 points of linspace(min_birth, max_birth),
 * then sqrt. Essential deaths are taken as max_birth. */
TsStatus ts_vec_kaji_landscape(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err);
/* Kaji's histogram label: dims/4 bins each of [lifetime H0, lifetime H1,
 * birth H0, birth H1]. Lifetimes (essential bars dropped, clipped to
 * max_life) binned over [0, max_life] and multiplied by
 * 1 + linspace(0, max_life, bins); births binned over [min_birth, max_birth]
 * weighted by lifetime (np.histogram rules: last bin closed, outside
 * dropped); then log(x + 1). */
TsStatus ts_vec_kaji_histogram(const TsDiagram *d, const TsKajiParams *p, double *out, TsError *err);

/* --- general vectorisations ------------------------------------------
 * `dim` selects one homology dimension; dim < 0 takes every pair. */

typedef struct TsPiParams {
  double birth_min, birth_max; /* image range along birth */
  double pers_min, pers_max;   /* and along persistence d - b */
  int nbirth, npers;           /* pixels (or sample points) per axis */
  double sigma;                /* Gaussian standard deviation */
  double weight_power;         /* weight = (d - b)^power; 0: constant 1 */
  double max_pers;             /* persistence clipped to this (inf: none); essential bars get it */
  int sample;                  /* 0: integrate over each pixel (CDF differences, persim/Kaji);
                                  1: sample the density at linspace grid points (GUDHI) */
} TsPiParams;

void ts_pi_params_default(TsPiParams *p);
/* out[i * npers + j] (birth-major): pixel i along birth, j along persistence.
 * Essential bars are skipped unless max_pers is finite. */
TsStatus ts_vec_persistence_image(const TsDiagram *d, int dim, const TsPiParams *p, double *out, TsError *err);

/* Betti curve: out[k] = #{pairs: birth <= t_k < death}, t = linspace(lo, hi, n)
 * (GUDHI's BettiCurve convention). Essential bars count. */
TsStatus ts_vec_betti_curve(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err);
/* Kaji's life curve of one dimension: out[k] = sum of clip(d - b, 0, max_life)
 * over bars with b < t_k < d (no sqrt). */
TsStatus ts_vec_life_curve(const TsDiagram *d, int dim, double lo, double hi, int n, double max_life, double *out,
                           TsError *err);
/* Persistence landscapes lambda_1..lambda_k at linspace(lo, hi, n):
 * out[l * n + i] = l-th largest max(0, min(t - b, d - t)). Essential bars
 * are skipped. (GUDHI's Landscape is sqrt(2) times this.) */
TsStatus ts_vec_landscape(const TsDiagram *d, int dim, int k, double lo, double hi, int n, double *out, TsError *err);
/* Power-weighted silhouette at linspace(lo, hi, n):
 * sum_i w_i tent_i(t) / sum_i w_i, w_i = (d_i - b_i)^power; finite bars. */
TsStatus ts_vec_silhouette(const TsDiagram *d, int dim, double power, double lo, double hi, int n, double *out,
                           TsError *err);
/* Histograms over [lo, hi] in n bins (np.histogram rules), finite bars only:
 * of lifetimes (clipped to hi) and of births weighted by lifetime. */
TsStatus ts_vec_lifetime_histogram(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err);
TsStatus ts_vec_birth_histogram(const TsDiagram *d, int dim, double lo, double hi, int n, double *out, TsError *err);

/* Scalar summaries over the finite bars of one dimension (dim < 0: all). */
typedef struct TsDiagramStats {
  size_t count;            /* all pairs, essential included */
  size_t essential;        /* pairs with death = +inf */
  double total_persistence;/* sum (d - b)^power (power given to ts_diagram_stats) */
  double lifespan_sum;     /* sum 0.5 (d - b)^alpha (layer topology) */
  double average_life;     /* mean (d - b) */
  double midlife;          /* mean (b + d) / 2 (dnn-topology's, done right) */
  double max_life;
  double entropy;          /* persistent entropy of lifetimes > min_life */
} TsDiagramStats;

/* power for total persistence, alpha for the lifespan sum, min_life the
 * entropy's threshold (Topo-GEN uses 0.001; 0 keeps all positive lifetimes). */
void ts_diagram_stats(const TsDiagram *d, int dim, double power, double alpha, double min_life, TsDiagramStats *out);
/* Persistent entropy -sum p log p, p = l / sum l over finite lifetimes l > min_life
 * (natural log; 0 when there are none). */
double ts_vec_entropy(const TsDiagram *d, int dim, double min_life);

/* --- Kaji's label types, by name ------------------------------------- */

typedef enum TsLabelType {
  TS_LABEL_PERSISTENCE_IMAGE = 0, /* "persistence-image" (default) */
  TS_LABEL_LIFE_CURVE,            /* "life-curve" (Kaji's 'betticurve') */
  TS_LABEL_BETTI_CURVE,           /* "betti-curve": Betti numbers at nb points over the birth range */
  TS_LABEL_LANDSCAPE,             /* "landscape" */
  TS_LABEL_HISTOGRAM              /* "histogram" */
} TsLabelType;

const char *ts_label_type_name(TsLabelType t);
int ts_label_type_parse(const char *name); /* -1 if unknown */
/* The label of type t (p->dims values: H0 then H1). */
TsStatus ts_kaji_label(const TsDiagram *d, TsLabelType t, const TsKajiParams *p, double *out, TsError *err);

#endif
