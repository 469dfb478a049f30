/* probe-report.c — progress bar and tables of a probe. */
#include "probe-report.h"

#include <math.h>
#include <string.h>

void ts_probe_bar_stage(void *user, const char *stage, size_t done, size_t total) {
  TsProbeBar *b = user;
  if (!b->on || strcmp(b->stage, stage) != 0) {
    if (b->on) ts_cli_progress_end(&b->bar, b->bar.total);
    snprintf(b->stage, sizeof b->stage, "%s", stage);
    ts_cli_progress_begin(&b->bar, b->stage, (int64_t)total);
    b->on = 1;
  }
  ts_cli_progress_update(&b->bar, (int64_t)done);
}

void ts_probe_bar_end(TsProbeBar *b) {
  if (b->on) ts_cli_progress_end(&b->bar, b->bar.total);
  b->on = 0;
}

static void num(FILE *f, double v) {
  if (isnan(v)) fprintf(f, " %12s", "-");
  else fprintf(f, " %12.6g", v);
}

void ts_probe_print(FILE *f, const TsProbeResult *r, const TsProbeConfig *cfg) {
  if (r->nlayers) {
    fprintf(f, "layer embeddings: %d images, %s lifespans (alpha %g)%s\n", cfg->samples,
            cfg->life.local ? "local (per class, averaged)" : "global", cfg->life.alpha,
            cfg->life.local && cfg->life.classes_0_8 ? ", classes 0..8 only" : "");
    fprintf(f, "%-20s %6s %12s %12s %12s %12s\n", "layer", "dim", "L0", "L1", "phdim", "slope");
    for (size_t k = 0; k < r->nlayers; k++) {
      const TsProbeLayerResult *L = &r->layers[k];
      fprintf(f, "%-20s %6d", L->name, L->dim);
      num(f, L->life[0]);
      num(f, L->life[1]);
      num(f, L->phdim);
      num(f, L->slope);
      fputc('\n', f);
    }
  }
  if (r->what & TS_PROBE_GRAPH) {
    fprintf(f, "functional graph: %zu nodes from", r->graph_nodes);
    for (size_t k = 0; k < r->ngraph_layers; k++)
      fprintf(f, "%s %s (%d)", k ? "," : "", r->graph_layer_names[k], r->graph_layer_units[k]);
    fprintf(f, "; %d images%s; partition %s\n", cfg->graph_images, cfg->float16 ? " (float16)" : "", r->partition);
    fprintf(f, "  edges up to 1 - |r| <= %g, values halved (DIPHA), pairs with persistence > %g\n",
            2 * cfg->graph.max_epsilon, cfg->graph.min_persistence);
    fprintf(f, "  %-4s %8s %12s %12s %12s\n", "dim", "pairs", "avg life", "midlife", "max betti");
    for (int q = 0; q <= r->graph.maxdim; q++) {
      double mx = 0;
      for (int j = 0; j < TS_GRAPH_GRID; j++)
        if (r->graph.betti[q][j] > mx) mx = r->graph.betti[q][j];
      fprintf(f, "  %-4d %8zu", q, r->graph.pairs[q]);
      num(f, r->graph.avglife[q]);
      num(f, r->graph.midlife[q]);
      num(f, mx);
      fputc('\n', f);
    }
    fprintf(f, "  time: correlations %.2f s, rips %.2f s\n", r->seconds_correlation, r->seconds_rips);
  }
  fprintf(f, "time: forward passes %.2f s, lifespans %.2f s, phdim %.2f s\n", r->seconds_capture,
          r->seconds_lifespans, r->seconds_phdim);
}
