/* playground-state.h — what the Playground shows, as plain data: two 2D
 * point clouds (the one being shaped and a target), the presets that fill
 * them, the loss weights and learning rate, and a small JSON file that
 * saves and restores all of it.
 *
 * Plain C (no GTK), so tests and the CLI can build and check states. The
 * presets are functions of a seed: the same (preset, seed) gives the same
 * points on every machine. The file format is one JSON object:
 *   {"format": "toposcope-playground", "version": 1, "seed": 7,
 *    "preset": "circle", "target_preset": "clusters", "step": 0,
 *    "lr": 0.01, "r": 1.5, "metric": "bottleneck", "dim": 1,
 *    "weights": [w0, ..., w6], "points": [x0, y0, x1, y1, ...],
 *    "target": [x0, y0, ...]}
 * Numbers are written with 17 significant digits, so a saved state reloads
 * bit for bit. */
#ifndef TS_UI_PLAYGROUND_STATE_H
#define TS_UI_PLAYGROUND_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TS_PLAYGROUND_LOSSES 7
#define TS_PLAYGROUND_MAX_POINTS 4096

/* The order of the weights: Topo-GEN's seven losses. */
extern const char *const ts_playground_loss_names[TS_PLAYGROUND_LOSSES];

typedef struct TsCloud {
  double *xy; /* n points, x and y interleaved; owned */
  size_t n, cap;
} TsCloud;

void ts_cloud_init(TsCloud *c);
void ts_cloud_clear(TsCloud *c);
TsStatus ts_cloud_add(TsCloud *c, double x, double y, TsError *err);
void ts_cloud_remove(TsCloud *c, size_t i);
TsStatus ts_cloud_copy(TsCloud *dst, const TsCloud *src, TsError *err);

typedef struct TsPlaygroundState {
  TsCloud cloud, target;
  char preset[32], target_preset[32]; /* what filled them last ("" = drawn by hand) */
  uint64_t seed;
  int64_t step;
  double lr;
  double weights[TS_PLAYGROUND_LOSSES];
  double r;   /* filtration radius shown */
  int metric; /* 0 bottleneck, 1 W2 */
  int dim;    /* 0, 1, or -1 for both */
} TsPlaygroundState;

void ts_playground_state_init(TsPlaygroundState *s);
void ts_playground_state_clear(TsPlaygroundState *s);

typedef struct TsPlaygroundPreset {
  const char *id, *title;
  int pair;  /* 1: fills both the cloud and the target (Topo-GEN's tests) */
  double lr; /* the learning rate the test used (0: none) */
} TsPlaygroundPreset;

size_t ts_playground_preset_count(void);
const TsPlaygroundPreset *ts_playground_preset_get(size_t i);
/* Index of a preset id, or -1. */
int ts_playground_preset_find(const char *id);
/* Fills out (cleared first) with the preset's points; a pair preset puts
 * its start in out and its target in target (if not NULL). */
TsStatus ts_playground_preset_fill(const char *id, uint64_t seed, TsCloud *out, TsCloud *target, TsError *err);

/* The JSON text of a state (malloc'd), or NULL on failure. */
char *ts_playground_state_to_json(const TsPlaygroundState *s, TsError *err);
/* Parses a state (s is cleared and refilled); errors name the member. */
TsStatus ts_playground_state_from_json(const char *json, TsPlaygroundState *s, TsError *err);
TsStatus ts_playground_state_save(const char *path, const TsPlaygroundState *s, TsError *err);
TsStatus ts_playground_state_load(const char *path, TsPlaygroundState *s, TsError *err);

#endif
