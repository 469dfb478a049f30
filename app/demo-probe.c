/* demo-probe.c — the demo's probe step: a short lenet-dnn run with the
 * layer lifespans and a functional-graph Betti curve before training and
 * after its last epoch, recorded in the run as `train --probe` does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "cli.h"
#include "demo.h"
#include "train-probe.h"

int ts_demo_probe(TsDemo *demo) {
  FILE *out = demo->out;
  TsError err = {0};
  TsDataset train = {0}, val = {0};
  if (ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, &train, &err) != TS_OK ||
      ts_dataset_open("fashion-mnist", TS_SPLIT_TEST, NULL, &val, &err) != TS_OK) {
    ts_dataset_clear(&train);
    fprintf(out, "   FashionMNIST is not installed: no probe step (it needs natural images)\n");
    return 0;
  }
  ts_dataset_truncate(&train, 2000);
  ts_dataset_truncate(&val, 300);
  TsTrainConfig cfg = ts_train_config_default();
  cfg.model = ts_model_config_default(TS_MODEL_LENET_DNN);
  cfg.epochs = 2;
  cfg.batch = 64;
  cfg.optim = ts_optim_config_default(TS_OPTIM_SGD, 0.02f);
  cfg.optim.momentum = 0.9f, cfg.optim.weight_decay = 5e-4f;
  snprintf(cfg.data, sizeof cfg.data, "fashion-mnist");
  cfg.limit = 2000;
  cfg.val_limit = 300;
  TsPool *pool = ts_pool_new(demo->threads, &err);
  TsTrainer *t = pool ? ts_trainer_new(&cfg, &train, &val, pool, &err) : NULL;
  int rc = 1;
  int64_t run_id = -1;
  if (!t) goto done;
  if (demo->store && ts_store_run_begin(demo->store, "train", "demo: lenet-dnn with probes", NULL, &run_id, &err))
    goto done;
  static TsTrainProbe p;
  memset(&p, 0, sizeof p);
  ts_probe_config_init(&p.cfg);
  p.cfg.what = TS_PROBE_LIFESPANS | TS_PROBE_GRAPH;
  p.cfg.samples = 500;
  p.cfg.life.per_class = 50;
  p.cfg.graph_images = 300;
  snprintf(p.cfg.graph_layers, sizeof p.cfg.graph_layers, "relu2,relu3,log_softmax"); /* 380 nodes: quick */
  p.cfg.pool = pool;
  ts_train_probe_parse_epochs(&p, "0,2");
  p.model = ts_trainer_model(t);
  p.embed = &train, p.graph = &val;
  p.aug = ts_trainer_config(t)->aug;
  p.store = demo->store, p.run_id = run_id, p.quiet = 1, p.out = out;
  fprintf(out, "   lenet-dnn on 2000 FashionMNIST images, 2 epochs; probes before training and after epoch 2\n");
  ts_train_probe_at(&p, 0);
  TsTrainHooks h = ts_train_probe_hooks(&p);
  TsStatus s = ts_trainer_run(t, demo->store, run_id, &h, ts_cli_stop_flag(), &err);
  if (demo->store) ts_store_run_end(demo->store, run_id, s ? TS_RUN_FAILED : TS_RUN_FINISHED, s ? err.message : NULL, NULL);
  if (s || p.failed) goto done;
  /* what the two probes say, read back from the store */
  for (int e = 0; e <= 2 && demo->store; e += 2) {
    double *v = NULL, *b = NULL;
    int64_t rows, cols, step, br, bc;
    if (ts_store_read_series(demo->store, run_id, "probe/lifespans", e, &v, &rows, &cols, &step, &err) ||
        ts_store_read_series(demo->store, run_id, "probe/betti/dim1", e, &b, &br, &bc, &step, &err)) {
      free(v);
      goto done;
    }
    double peak = 0, at = 0;
    for (int64_t j = 0; j < br; j++)
      if (b[2 * j + 1] > peak) peak = b[2 * j + 1], at = b[2 * j];
    fprintf(out, "   epoch %d: H0 lifespans conv1 %.3g, conv2 %.3g, fc1 %.3g, fc2 %.3g; graph Betti-1 peak %.1f at %.3f\n",
            e, v[0], v[2], v[4], v[6], peak, at);
    free(v);
    free(b);
  }
  fprintf(out, "   probing took %.1f s\n", p.seconds);
  rc = 0;
done:
  if (rc) fprintf(stderr, "toposcope: demo: probe: %s\n", err.message[0] ? err.message : p.message);
  ts_trainer_free(t);
  ts_pool_free(pool);
  ts_dataset_clear(&train);
  ts_dataset_clear(&val);
  return rc;
}
