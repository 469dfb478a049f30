/* vectorize.h — diagrams as fixed-length vectors (REFERENCE.md §3, §6, §7).
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

#endif
