/* probe-report.h — what `toposcope probe` and `toposcope train --probe`
 * share: the progress bar over a probe's stages and the table a probe
 * prints. */
#ifndef TS_APP_PROBE_REPORT_H
#define TS_APP_PROBE_REPORT_H

#include <stdio.h>

#include "cli.h"
#include "probe/probe.h"

typedef struct TsProbeBar {
  TsCliProgress bar;
  char stage[32];
  int on;
} TsProbeBar;

/* A TsProbeStage callback; user is a TsProbeBar. */
void ts_probe_bar_stage(void *user, const char *stage, size_t done, size_t total);
void ts_probe_bar_end(TsProbeBar *b);

/* One table row per layer (lifespans, PH dimension) and the graph summary. */
void ts_probe_print(FILE *f, const TsProbeResult *r, const TsProbeConfig *cfg);

#endif
