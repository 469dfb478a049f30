/* train-probe.c — probing between training epochs. */
#include "train-probe.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli.h"
#include "probe-report.h"

int ts_train_probe_parse_epochs(TsTrainProbe *p, const char *list) {
  p->nepochs = 0;
  const char *s = list;
  while (*s) {
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || v < 0 || v > 1000000 || (*e && *e != ',') || p->nepochs == 64) return -1;
    p->epochs[p->nepochs++] = v;
    s = *e ? e + 1 : e;
  }
  return p->nepochs ? 0 : -1;
}

void ts_train_probe_at(TsTrainProbe *p, int64_t epoch) {
  int listed = 0;
  for (size_t i = 0; i < p->nepochs; i++) listed |= p->epochs[i] == epoch;
  if (!listed || p->failed) return;
  double t0 = ts_clock_monotonic();
  TsProbeResult r;
  TsError err = {0};
  TsProbeBar bar = {0};
  TsProbeConfig cfg = p->cfg;
  TsStatus s = ts_probe_run(p->model, &cfg, p->embed, p->graph, &p->aug, ts_probe_bar_stage, &bar,
                            ts_cli_stop_flag(), &r, &err);
  ts_probe_bar_end(&bar);
  if (!s && p->store) s = ts_probe_store(p->store, p->run_id, epoch, &r, &err);
  double dt = ts_clock_monotonic() - t0;
  p->seconds += dt;
  if (s) {
    if (s != TS_ERR_CANCELLED) {
      p->failed = 1;
      snprintf(p->message, sizeof p->message, "probe at epoch %lld: %.400s", (long long)epoch, err.message);
      fprintf(stderr, "toposcope: train: %s (no further probes)\n", p->message);
    }
    return;
  }
  if (!p->quiet) {
    fprintf(p->out, "probe at epoch %lld (%.1f s):\n", (long long)epoch, dt);
    ts_probe_print(p->out, &r, &cfg);
    fflush(p->out);
  }
  ts_probe_result_clear(&r);
}

static void probe_on_step(void *user, const TsTrainProgress *pr) {
  TsTrainProbe *p = user;
  if (p->inner.on_step) p->inner.on_step(p->inner.user, pr);
}

static void probe_on_epoch(void *user, const TsTrainProgress *pr) {
  TsTrainProbe *p = user;
  if (p->inner.on_epoch) p->inner.on_epoch(p->inner.user, pr);
  ts_train_probe_at(p, pr->epoch + 1); /* pr->epoch is the epoch just done, from 0 */
}

TsTrainHooks ts_train_probe_hooks(TsTrainProbe *p) {
  TsTrainHooks h = {.user = p, .on_step = probe_on_step, .on_epoch = probe_on_epoch};
  return h;
}
