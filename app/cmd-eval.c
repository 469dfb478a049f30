/* toposcope eval — loss, accuracy and confusion matrix of a checkpoint. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "data/dataset.h"
#include "run/train.h"

static void help(void) {
  printf("Usage: toposcope eval --checkpoint CKPT [--data SPEC] [OPTIONS]\n"
         "Evaluates a classifier checkpoint (safetensors) on a dataset: mean\n"
         "cross-entropy, accuracy and the confusion matrix (rows: true class,\n"
         "columns: predicted class).\n\n"
         "Options:\n"
         "  --checkpoint CKPT     a checkpoint from toposcope train, or a PyTorch state\n"
         "                        dict saved as safetensors (then give --model)\n"
         "  --data SPEC           fashion-mnist | fashion-mnist:DIR | idx:IMAGES,LABELS |\n"
         "                        cifar:DIR | folder:DIR (default: the checkpoint's data)\n"
         "  --split test|train    which split of SPEC (default: test where there is one)\n"
         "  --model NAME          the architecture of a checkpoint without Toposcope\n"
         "                        metadata: lenet5 | resnet18 | resnet34 | resnet50 | mlp |\n"
         "                        resnet20 | resnet32 | resnet56 | resnet110 | vgg11 | vgg16 |\n"
         "                        lenet-dnn;\n"
         "                        its sizes are read off the tensors (default: from the metadata)\n"
         "  --normalize M/S       normalisation for such a checkpoint, MEANS/STDS on the [0,1]\n"
         "                        scale (default: the checkpoint's; none for foreign files)\n"
         "  --batch B             batch size (default: 256)\n"
         "  --limit N             evaluate the first N samples (default: all)\n"
         "  --logits FILE.npy     also write the logits (float32, N x classes) as .npy\n"
         "  --json                print the result as one JSON object\n"
         "  --threads N           worker threads (default: 0 = all cores)\n"
         "  -h, --help            show this help\n");
}

static int write_npy(const char *path, const float *v, int64_t rows, int cols, TsError *err) {
  FILE *f = fopen(path, "wb");
  if (!f) return ts_error_errno(err, errno, "cannot create '%s'", path);
  char head[128];
  int n = snprintf(head, sizeof head, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %d), }",
                   (long long)rows, cols);
  int total = 10 + n + 1, pad = (64 - total % 64) % 64;
  unsigned hl = (unsigned)(n + pad + 1);
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(head, 1, (size_t)n, f) == (size_t)n;
  for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  size_t cnt = (size_t)rows * (size_t)cols;
  ok = ok && fwrite(v, sizeof(float), cnt, f) == cnt;
  ok = (fclose(f) == 0) && ok;
  if (!ok) return ts_error_errno(err, errno ? errno : EIO, "cannot write '%s'", path);
  return TS_OK;
}

int ts_cmd_eval(int argc, char **argv) {
  enum { O_CK = 256, O_DATA, O_SPLIT, O_MODEL, O_NORM, O_BATCH, O_LIMIT, O_LOGITS, O_JSON, O_THREADS };
  static const struct option opts[] = {{"checkpoint", required_argument, 0, O_CK},
                                       {"data", required_argument, 0, O_DATA},
                                       {"split", required_argument, 0, O_SPLIT},
                                       {"model", required_argument, 0, O_MODEL},
                                       {"normalize", required_argument, 0, O_NORM},
                                       {"batch", required_argument, 0, O_BATCH},
                                       {"limit", required_argument, 0, O_LIMIT},
                                       {"logits", required_argument, 0, O_LOGITS},
                                       {"json", no_argument, 0, O_JSON},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *ckpath = NULL, *data = NULL, *split = NULL, *model = NULL, *norm = NULL, *logits = NULL;
  long batch = 256, limit = 0;
  int json = 0, threads = 0, c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case O_CK: ckpath = optarg; break;
    case O_DATA: data = optarg; break;
    case O_SPLIT: split = optarg; break;
    case O_MODEL: model = optarg; break;
    case O_NORM: norm = optarg; break;
    case O_BATCH: if ((rc = ts_cli_int("eval", "--batch", optarg, 1, 65536, &batch))) return rc; break;
    case O_LIMIT: if ((rc = ts_cli_int("eval", "--limit", optarg, 1, LONG_MAX, &limit))) return rc; break;
    case O_LOGITS: logits = optarg; break;
    case O_JSON: json = 1; break;
    case O_THREADS: if ((rc = ts_cli_threads("eval", optarg, &threads))) return rc; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("eval", optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
  if (!ckpath) return ts_cli_usage_error("eval", "--checkpoint is required");
  if (split && strcmp(split, "test") && strcmp(split, "train"))
    return ts_cli_usage_error("eval", "--split must be test or train, not '%s'", split);

  TsError err = {0};
  TsSafetensors st;
  if (ts_safetensors_read(ckpath, &st, &err)) return ts_cli_fail("eval", &err);
  if (!data) {
    const char *d = ts_safetensors_meta(&st, "data.val");
    if (!d || !*d) d = ts_safetensors_meta(&st, "data.train");
    if (!d || !*d || strcmp(d, "generated") == 0) {
      ts_safetensors_clear(&st);
      return ts_cli_usage_error("eval", "--data is required (the checkpoint names no dataset)");
    }
    data = d;
  }
  TsSplit sp = split ? (strcmp(split, "train") == 0 ? TS_SPLIT_TRAIN : TS_SPLIT_TEST)
                     : (ts_dataset_has_split(data, TS_SPLIT_TEST) ? TS_SPLIT_TEST : TS_SPLIT_TRAIN);
  TsDataset ds;
  if (ts_dataset_open(data, sp, NULL, &ds, &err)) {
    ts_safetensors_clear(&st);
    return ts_cli_fail("eval", &err);
  }
  if (limit > 0) ts_dataset_truncate(&ds, limit);

  TsModelConfig mc;
  TsAugment aug;
  TsModel *m = NULL;
  TsPool *pool = NULL;
  TsEvalResult res = {0};
  rc = TS_EXIT_OK;
  if (ts_checkpoint_model_config(&st, model, ds.height, ds.width, &mc, &aug, &err)) {
    rc = ts_cli_fail("eval", &err);
    goto done;
  }
  if (norm) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", norm);
    char *slash = strchr(buf, '/');
    float mean[4], sd[4];
    int nm = 0, ns = 0;
    if (slash) {
      *slash = '\0';
      for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t && nm < 4; t = strtok_r(NULL, ",", &sv)) mean[nm++] = strtof(t, NULL);
      for (char *sv = NULL, *t = strtok_r(slash + 1, ",", &sv); t && ns < 4; t = strtok_r(NULL, ",", &sv)) sd[ns++] = strtof(t, NULL);
    }
    if (!slash || nm < 1 || nm != ns) {
      rc = ts_cli_usage_error("eval", "--normalize expects MEANS/STDS, not '%s'", norm);
      goto done;
    }
    for (int k = 0; k < 4; k++) aug.mean[k] = mean[k < nm ? k : nm - 1], aug.std[k] = sd[k < ns ? k : ns - 1];
  }
  /* A model trained on resized images sees this data resized the same way. */
  if (mc.in_h != ds.height || mc.in_w != ds.width) aug.resize_h = mc.in_h, aug.resize_w = mc.in_w;
  if (!(pool = ts_pool_new(threads, &err)) || ts_checkpoint_load_model(&st, &mc, (int)batch, &m, &err) ||
      (ts_cli_install_stop_handlers(), 0) ||
      ts_evaluate(m, pool, 1, &ds, &aug, (int)batch, logits != NULL, ts_cli_stop_flag(), &res, &err)) {
    rc = ts_cli_fail("eval", &err);
    goto done;
  }
  if (logits && write_npy(logits, res.logits, res.count, res.num_classes, &err)) {
    rc = ts_cli_fail("eval", &err);
    goto done;
  }
  int k = res.num_classes;
  if (json) {
    TsJson j;
    ts_json_init(&j);
    ts_json_object_begin(&j);
    ts_json_kv_string(&j, "checkpoint", ckpath);
    ts_json_kv_string(&j, "data", ds.source);
    ts_json_kv_int(&j, "count", res.count);
    ts_json_kv_number(&j, "loss", res.loss);
    ts_json_kv_number(&j, "accuracy", res.accuracy);
    ts_json_key(&j, "confusion");
    ts_json_array_begin(&j);
    for (int a = 0; a < k; a++) {
      ts_json_array_begin(&j);
      for (int b = 0; b < k; b++) ts_json_int(&j, res.confusion[a * k + b]);
      ts_json_array_end(&j);
    }
    ts_json_array_end(&j);
    ts_json_object_end(&j);
    printf("%s\n", ts_json_text(&j) ? ts_json_text(&j) : "{}");
    ts_json_clear(&j);
  } else {
    printf("%s on %s: %lld images\n", ts_model_kind_name(mc.kind), ds.source, (long long)res.count);
    printf("loss %.4f  accuracy %.2f%%\n\nconfusion matrix (rows: true, columns: predicted)\n", res.loss,
           100 * res.accuracy);
    printf("%14s", "");
    for (int b = 0; b < k; b++) printf(" %6d", b);
    printf("\n");
    for (int a = 0; a < k; a++) {
      char label[32];
      snprintf(label, sizeof label, "%d %s", a, ds.class_names && a < ds.num_classes ? ds.class_names[a] : "");
      printf("%-14.14s", label);
      for (int b = 0; b < k; b++) printf(" %6lld", (long long)res.confusion[a * k + b]);
      printf("\n");
    }
  }
done:
  ts_eval_result_clear(&res);
  ts_model_free(m);
  ts_pool_free(pool);
  ts_dataset_clear(&ds);
  ts_safetensors_clear(&st);
  return rc;
}
