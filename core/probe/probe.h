/* probe.h — one probe of a network: layer lifespans, PH dimensions and the
 * functional graph, as `toposcope probe` and `toposcope train --probe` run
 * it, and how its results go into the run store.
 *
 * Lifespans and PH dimension use `samples` images drawn at random (seed)
 * from the embedding set (the layer-topology study: 3000 training images), the embedding of
 * each chosen layer (capture.h: GAP for conv outputs) and lifespan.h /
 * ph/phdim.h. The functional graph uses the first graph_images images of
 * the graph set, in order (dnn-topology: the first 1000 test images), the
 * units (or groups of units, `partition`) of the graph layers and graph.h.
 *
 * Store series (ts_probe_store), all at step = the epoch (0 = before the
 * first training step; a probe of a checkpoint uses the checkpoint's epoch):
 *   probe/lifespans   rows = lifespan layers (in probe order), cols = 2:
 *                     L_0, L_1 (NaN when H1 was not asked for)
 *   probe/phdim       rows = lifespan layers, cols = 2: PHdim, fit slope m
 *   probe/betti/dimK  rows = 200, cols = 2: grid x, smoothed beta_K(x)
 *                     (K = 0..graph maxdim; DIPHA's halved units)
 *   probe/avglife     rows = 1, cols = graph maxdim + 1: per dimension
 *   probe/midlife     rows = 1, cols = graph maxdim + 1: per dimension
 *   probe/diagram/<layer>  rows = bars, cols = 3: dim, birth, death (death
 *                     +inf for an essential class, stored as the float64
 *                     +inf) of a lifespan layer's scaled embedding: the
 *                     global Rips diagram, or in local mode (the default)
 *                     the per-class diagrams concatenated; with lifespans
 *   probe/graph_diagram rows = pairs, cols = 3: dim, birth, death of the
 *                     functional graph (DIPHA's halved units, all pairs
 *                     before the summaries' filters, essential ones +inf)
 * and a blob probe/layers (application/json) at the same step naming the
 * rows: {"lifespan_layers": [{"name", "dim"}...], "graph_layers": [...],
 * "graph_nodes": n, "partition": "...", ...}. */
#ifndef TS_PROBE_PROBE_H
#define TS_PROBE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "ph/diagram.h"
#include "probe/graph.h"
#include "probe/lifespan.h"
#include "run/store.h"

struct TsJson;

enum { TS_PROBE_LIFESPANS = 1, TS_PROBE_PHDIM = 2, TS_PROBE_GRAPH = 4 };

/* Parses "lifespans,phdim,graph" into the bits above; -1 if a word is unknown. */
int ts_probe_what_parse(const char *s);

typedef struct TsProbeConfig {
  int what;                /* TS_PROBE_* bits */
  char layers[1024];       /* lifespan/phdim layers ("" = default, "all") */
  char graph_layers[1024]; /* graph layers ("" = default) */
  int samples;             /* embedding images (default 3000) */
  uint64_t seed;
  TsLifespanOptions life;
  int phdim_start, phdim_step; /* 500, 350 */
  TsGraphOptions graph;
  int graph_images;        /* default 1000 */
  int float16;             /* cast graph signals to float16 (dnn-topology) */
  int partition;           /* 0: every unit a node; -1: by channel; K > 0: K groups of positions (k-means) */
  int graph_max_nodes;     /* refuse larger graphs (default 12000: a 288 MB distance triangle); 0: no limit */
  int batch;               /* forward batch (default 100) */
  int deterministic;
  TsPool *pool;
  int dist;                /* under MPI (run/dist.h), every rank calls ts_probe_run: rank 0 makes the
                              graph signals and sends them to all, each rank computes its share of the
                              correlation rows (ts_probe_correlation_dist), rank 0 runs the Rips and
                              the lifespans / PH dimensions alone (the graph first, so the others are
                              done early); the other ranks' results are empty. 0: this process alone */
  char dump_dir[1024];     /* "" or a folder to write what the probe computed on, as .npy (float64):
                              emb-K.npy (lifespan layer K, rows in sample order), labels.npy,
                              samples.npy (dataset indices), graph-signals.npy (nodes x images,
                              after any float16 cast), graph-distances.npy (the lower triangle
                              d10, d20, d21, ... of 1 - |r|) */
} TsProbeConfig;

void ts_probe_config_init(TsProbeConfig *c);

typedef struct TsProbeLayerResult {
  char name[64];
  int dim;                 /* embedding size */
  double life[2];          /* L_0, L_1 (NaN if not computed) */
  double phdim, slope;     /* NaN if not computed */
  TsDiagram diagram;       /* the Rips bars behind life (ts_probe_lifespans' diag); empty without lifespans */
} TsProbeLayerResult;

typedef struct TsProbeResult {
  int what;
  size_t nlayers;
  TsProbeLayerResult *layers;
  size_t ngraph_layers;
  char (*graph_layer_names)[64];
  int *graph_layer_units;  /* nodes contributed by each graph layer */
  size_t graph_nodes;
  char partition[128];     /* how nodes were formed, for the output */
  TsDiagram graph_diagram; /* distance units (not halved) */
  TsGraphSummary graph;
  double seconds_capture, seconds_lifespans, seconds_phdim, seconds_correlation, seconds_rips;
} TsProbeResult;

void ts_probe_result_clear(TsProbeResult *r);

typedef void (*TsProbeStage)(void *user, const char *stage, size_t done, size_t total);

/* Runs the probe. embed_ds: images for lifespans/PH dimension; graph_ds:
 * images for the functional graph (either may be NULL when not needed).
 * aug: resize and normalisation of the model's inputs. stage (may be NULL)
 * reports progress. */
TsStatus ts_probe_run(TsModel *m, const TsProbeConfig *cfg, const TsDataset *embed_ds, const TsDataset *graph_ds,
                      const TsAugment *aug, TsProbeStage stage, void *user, volatile int *stop, TsProbeResult *res,
                      TsError *err);

/* The series and the layers blob above, at step `epoch`. */
TsStatus ts_probe_store(TsStore *s, int64_t run_id, int64_t epoch, const TsProbeResult *r, TsError *err);

/* Writes the result as one JSON object value into j (after a key, in an
 * array, or as the whole document). */
void ts_probe_result_json(struct TsJson *j, const TsProbeResult *r, const TsProbeConfig *cfg);

/* k-means (Lloyd, deterministic start, 50 rounds) of the h x w positions
 * into k groups by (row, col): of[h*w] receives the group of each. */
void ts_probe_kmeans_positions(int h, int w, int k, int32_t *of);

#endif
