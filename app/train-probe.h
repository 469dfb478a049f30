/* train-probe.h — `toposcope train --probe WHAT --probe-epochs LIST`: the
 * probe of probe/probe.h run on the model being trained, between epochs
 * (after the epoch's validation), its rows written into the training run
 * at step = the epoch (0 = before the first step). It only reads the
 * model (evaluation-mode forwards), so training continues exactly as
 * without it. Kept apart from the trainer: it is a pair of hooks. */
#ifndef TS_APP_TRAIN_PROBE_H
#define TS_APP_TRAIN_PROBE_H

#include <stdio.h>

#include "probe/probe.h"
#include "run/train.h"

typedef struct TsTrainProbe {
  TsProbeConfig cfg;
  int64_t epochs[64];
  size_t nepochs;
  /* set by the caller before training */
  TsModel *model;
  const TsDataset *embed, *graph;
  TsAugment aug;
  TsStore *store;
  int64_t run_id;
  int quiet;
  FILE *out;
  /* chained hooks of the caller */
  TsTrainHooks inner;
  /* what happened */
  double seconds;
  int failed;
  char message[512];
} TsTrainProbe;

/* Parses "--probe-epochs 0,1,2,5,10" into p->epochs; -1 on a bad list. */
int ts_train_probe_parse_epochs(TsTrainProbe *p, const char *list);
/* Probes at `epoch` if the list has it (and nothing failed before). */
void ts_train_probe_at(TsTrainProbe *p, int64_t epoch);
/* Hooks that call p->inner's and then probe after the listed epochs. */
TsTrainHooks ts_train_probe_hooks(TsTrainProbe *p);

#endif
