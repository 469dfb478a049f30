/* train-options.c — the table of `toposcope train` options (see the header). */
#include "run/train-options.h"

#include <string.h>

static const TsOptSpec train_options[] = {
    {"model", 0, "NAME", TS_OPT_CHOICE, TS_OPT_GROUP_MODEL, "lenet5", "lenet5|resnet18|resnet34|resnet50|mlp", 0, 0,
     "lenet5 | resnet18 | resnet34 | resnet50 | mlp (default: lenet5)", 0},
    {"data", 0, "SPEC", TS_OPT_DATA, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "training set (default with --resume: the checkpoint's)", 1},
    {"val", 0, "SPEC|none", TS_OPT_DATA, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "validation set (default: the test split of --data, if any)", 1},
    {"epochs", 0, "E", TS_OPT_INT, TS_OPT_GROUP_OPTIM, "10", NULL, 0, 1000000, "total epochs (default: 10)", 1},
    {"batch", 0, "B", TS_OPT_INT, TS_OPT_GROUP_OPTIM, "64", NULL, 1, 65536, "batch size (default: 64)", 0},
    {"optimizer", 0, "NAME", TS_OPT_CHOICE, TS_OPT_GROUP_OPTIM, "sgd", "sgd|adam|adamw", 0, 0,
     "sgd | adam | adamw (default: sgd)", 0},
    {"lr", 0, "LR", TS_OPT_FLOAT, TS_OPT_GROUP_OPTIM, "", NULL, 0, 1e6,
     "learning rate (default: 0.01 for sgd, 0.001 for adam/adamw)", 0},
    {"momentum", 0, "M", TS_OPT_FLOAT, TS_OPT_GROUP_OPTIM, "0.9", NULL, 0, 1, "SGD momentum (default: 0.9)", 0},
    {"nesterov", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_OPTIM, "", NULL, 0, 0, "Nesterov momentum (SGD)", 0},
    {"weight-decay", 0, "WD", TS_OPT_FLOAT, TS_OPT_GROUP_OPTIM, "", NULL, 0, 1e3, "(default: 0; adamw: 0.01)", 0},
    {"schedule", 0, "S", TS_OPT_TEXT, TS_OPT_GROUP_OPTIM, "constant", NULL, 0, 0,
     "constant | multistep:30,60[:GAMMA] | cosine[:T[:MIN_LR]] | warmup:N,\n"
     "or MAIN+warmup:N[:START]; stepped per epoch (default: constant)",
     0},
    {"seed", 0, "S", TS_OPT_INT, TS_OPT_GROUP_RUN, "0", NULL, 0, 4294967295.0,
     "seed of initialisation, shuffling, augmentation (default: 0)", 0},
    {"deterministic", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "bit-identical results for any thread count", 1},
    {"augment", 0, "LIST", TS_OPT_TEXT, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "training augmentation: crop:P (random crop after P-pixel\n"
     "padding), flip (horizontal), e.g. crop:4,flip (default: none)",
     0},
    {"resize", 0, "HxW", TS_OPT_TEXT, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "resize every image first (default: keep the stored size)", 0},
    {"normalize", 0, "MODE", TS_OPT_TEXT, TS_OPT_GROUP_DATA, "auto", NULL, 0, 0,
     "auto (per-channel mean/std of the training set), none,\n"
     "or M1,M2,M3/S1,S2,S3 on the [0,1] scale (default: auto)",
     0},
    {"small-stem", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_MODEL, "", NULL, 0, 0,
     "ResNet: 3x3 stride-1 first conv and no max pool", 0},
    {"width", 0, "W", TS_OPT_FLOAT, TS_OPT_GROUP_MODEL, "1", NULL, 0.01, 64, "ResNet channel multiplier (default: 1)",
     0},
    {"hidden", 0, "N,N,...", TS_OPT_TEXT, TS_OPT_GROUP_MODEL, "256,128", NULL, 0, 0,
     "MLP hidden sizes (default: 256,128)", 0},
    {"limit", 0, "N", TS_OPT_INT, TS_OPT_GROUP_DATA, "", NULL, 1, 2147483647.0,
     "use the first N training samples (default: all)", 0},
    {"val-limit", 0, "N", TS_OPT_INT, TS_OPT_GROUP_DATA, "", NULL, 1, 2147483647.0,
     "use the first N validation samples (default: all)", 1},
    {"save", 0, "CKPT", TS_OPT_SAVE_FILE, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "checkpoint (safetensors) after every epoch and on stop\n"
     "(default: checkpoints/run-ID.safetensors beside the store;\n"
     "with --resume: the resumed file)",
     1},
    {"resume", 0, "CKPT", TS_OPT_OPEN_FILE, TS_OPT_GROUP_RUN, "", NULL, 0, 0, "continue the run saved in CKPT", 1},
    {"loader-threads", 0, "N", TS_OPT_INT, TS_OPT_GROUP_RUN, "1", NULL, 0, 64,
     "background batch preparation threads (default: 1)", 1},
    {"name", 0, "NAME", TS_OPT_TEXT, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "the run's name in the store (default: MODEL on DATA)", 1},
    {"quiet", 'q', NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0, "no per-epoch lines", 1},
};

const TsOptSpec *ts_train_options(size_t *n) {
  *n = sizeof train_options / sizeof *train_options;
  return train_options;
}

const TsOptSpec *ts_train_option_find(const char *name) {
  for (size_t i = 0; i < sizeof train_options / sizeof *train_options; i++)
    if (strcmp(train_options[i].name, name) == 0) return &train_options[i];
  return NULL;
}

const char *ts_opt_group_title(TsOptGroup g) {
  static const char *titles[TS_OPT_N_GROUPS] = {"Model", "Data", "Optimisation", "Run"};
  return (unsigned)g < TS_OPT_N_GROUPS ? titles[g] : "Other";
}

#define HELP_COLUMN 24

void ts_opt_print_help(FILE *f, const TsOptSpec *opts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const TsOptSpec *o = &opts[i];
    char head[64];
    int len;
    if (o->short_name)
      len = snprintf(head, sizeof head, "  -%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
    else
      len = snprintf(head, sizeof head, "  --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    fputs(head, f);
    /* the help starts at its column, or on the next line if the head is too long */
    if (len >= HELP_COLUMN - 1) fprintf(f, "\n%*s", HELP_COLUMN, "");
    else fprintf(f, "%*s", HELP_COLUMN - len, "");
    for (const char *p = o->help; *p;) {
      const char *nl = strchr(p, '\n');
      size_t l = nl ? (size_t)(nl - p) : strlen(p);
      fwrite(p, 1, l, f);
      fputc('\n', f);
      if (!nl) break;
      p = nl + 1;
      fprintf(f, "%*s", HELP_COLUMN, "");
    }
  }
}
