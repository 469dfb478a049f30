/* colormap.c — colour maps as piecewise-linear tables.
 *
 * viridis and magma are sampled at 9 points from matplotlib's tables (the
 * published 256-entry maps); linear interpolation between them stays within
 * a couple of 8-bit levels of the originals, which is plenty on screen. */
#include "plot/colormap.h"

#include <math.h>

static const uint8_t viridis[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},   {44, 113, 142}, {33, 144, 141},
                                      {39, 173, 129}, {92, 200, 99},  {170, 220, 50},  {253, 231, 37}};
static const uint8_t magma[9][3] = {{0, 0, 4},      {28, 16, 68},   {79, 18, 123},   {129, 37, 129}, {181, 54, 122},
                                    {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}};
static const uint8_t diverging[9][3] = {{5, 48, 97},     {33, 102, 172}, {67, 147, 195},  {146, 197, 222},
                                        {247, 247, 247}, {244, 165, 130}, {214, 96, 77},   {178, 24, 43},
                                        {103, 0, 31}};

const char *ts_colormap_name(TsColormap c) {
  switch (c) {
  case TS_CMAP_GREY: return "grey";
  case TS_CMAP_VIRIDIS: return "viridis";
  case TS_CMAP_MAGMA: return "magma";
  case TS_CMAP_DIVERGING: return "diverging";
  }
  return "grey";
}

void ts_colormap_rgb(TsColormap c, double t, uint8_t rgb[3]) {
  if (isnan(t)) {
    rgb[0] = rgb[1] = rgb[2] = 128;
    return;
  }
  if (t < 0) t = 0;
  if (t > 1) t = 1;
  if (c == TS_CMAP_GREY) {
    rgb[0] = rgb[1] = rgb[2] = (uint8_t)lrint(t * 255.0);
    return;
  }
  const uint8_t(*tab)[3] = c == TS_CMAP_MAGMA ? magma : c == TS_CMAP_DIVERGING ? diverging : viridis;
  double x = t * 8.0;
  int i = (int)x;
  if (i >= 8) i = 7;
  double f = x - i;
  for (int k = 0; k < 3; k++) rgb[k] = (uint8_t)lrint(tab[i][k] + f * (tab[i + 1][k] - tab[i][k]));
}
