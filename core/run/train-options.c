/* train-options.c — the table of `toposcope train` options (see the header). */
#include "run/train-options.h"

#include <string.h>

static const TsOptSpec train_options[] = {
    {"task", 0, "TASK", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "classify", "classify|ph|simultaneous|vae", 0, 0,
     "classify | ph | simultaneous | vae (default: classify;\n"
     "vae: --model topovae, Adam lr 5e-4, batch 128, no normalisation)",
     0},
    {"label-norm", 0, "MODE", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "zscore", "zscore|none", 0, 0,
     "zscore (per-dimension mean/std fitted on the training labels,\n"
     "kept in the checkpoint) | none (raw labels) (default: zscore)",
     0},
    {"ph-weight", 0, "W", TS_OPT_FLOAT, TS_OPT_GROUP_TASK, "1", NULL, 0, 1e6,
     "simultaneous: weight of the MSE term (default: 1)", 0},
    {"topo-weights", 0, "W0,..,W6", TS_OPT_TEXT, TS_OPT_GROUP_TASK, "0,0,0,0,0,0,0", NULL, 0, 0,
     "vae: Topo-GEN's topological weights (bottleneck0,\n"
     "bottleneck1, persentropy0, persentropy1, dsigma0, dsigma1,\n"
     "density) of the batch against the input batch (default: 0s)",
     0},
    {"topo-deg", 0, "0|1", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "1", "0|1", 0, 0,
     "vae: homology degree of the topological losses (default: 1)", 0},
    {"topo-on", 0, "WHERE", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "output", "output|latent", 0, 0,
     "vae: output (reconstructions, default) or latent (means)", 0},
    {"latent", 0, "N", TS_OPT_INT, TS_OPT_GROUP_TASK, "10", NULL, 1, 4096, "vae: latent dimension (default: 10)", 0},
    {"lockstep", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_TASK, "", NULL, 0, 0,
     "vae: train a plain VAE beside it, same initial weights,\n"
     "batches and noise (vae/bce and topovae/bce per step)",
     0},
    {"latent-points", 0, "N", TS_OPT_INT, TS_OPT_GROUP_TASK, "1000", NULL, 0, 1000000,
     "vae: latent means of N validation images per epoch\n"
     "(series topovae/latent; default: 1000)",
     0},
    {"init", 0, "CKPT", TS_OPT_OPEN_FILE, TS_OPT_GROUP_TASK, "", NULL, 0, 0,
     "fine-tune: start from every tensor of CKPT whose name and shape\n"
     "match, the head and missing tensors freshly initialised\n"
     "(without --model, the architecture is CKPT's)",
     0},
    {"freeze", 0, "MODE", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "none", "backbone|none", 0, 0,
     "backbone (train the head only) | none (default: none)", 0},
    {"per-class", 0, "N", TS_OPT_INT, TS_OPT_GROUP_DATA, "", NULL, 1, 2147483647.0,
     "N training images of each class, drawn by --subset-seed", 0},
    {"subset-seed", 0, "S", TS_OPT_INT, TS_OPT_GROUP_DATA, "0", NULL, 0, 4294967295.0, "(default: 0)", 0},
    {"model", 0, "NAME", TS_OPT_CHOICE, TS_OPT_GROUP_MODEL, "lenet5",
     "lenet5|resnet18|resnet34|resnet50|mlp|resnet20|resnet32|resnet56|resnet110|vgg11|vgg16|lenet-dnn|topovae", 0, 0,
     "lenet5 | resnet18 | resnet34 | resnet50 | mlp | resnet20 |\n"
     "resnet32 | resnet56 | resnet110 | vgg11 | vgg16 | lenet-dnn |\n"
     "topovae (--task vae) (default: lenet5)",
     0},
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
    {"sync-bn", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "under mpirun: batch norm over the global batch (default:\n"
     "each rank's share, as DDP); ignored by one process",
     1},
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
     "MLP hidden sizes (default: 256,128); lenet-dnn: conv1,conv2,fc1\n"
     "(default: 10,20,50)",
     0},
    {"limit", 0, "N", TS_OPT_INT, TS_OPT_GROUP_DATA, "", NULL, 1, 2147483647.0,
     "use the first N training samples (default: all)", 0},
    {"in-memory", 0, "MB", TS_OPT_INT, TS_OPT_GROUP_DATA, "1024", NULL, 0, 1073741824.0,
     "stream sets larger than this from disk (0: always; default: 1024)", 1},
    {NULL, 0, NULL, TS_OPT_NOTE, TS_OPT_GROUP_GENERATE, "", NULL, 0, 0,
     "generate:SIZE (the options of toposcope generate and label; keys of the spec):", 0},
    {"gen-count", 0, "N", TS_OPT_INT, TS_OPT_GROUP_GENERATE, "10000", NULL, 1, 2147483647.0,
     "pictures per epoch (default: 10000; each epoch new ones)", 0},
    {"gen-val", 0, "N", TS_OPT_INT, TS_OPT_GROUP_GENERATE, "1000", NULL, 0, 2147483647.0,
     "validation pictures (the val stream; default: 1000)", 0},
    {"gen-seed", 0, "S", TS_OPT_INT, TS_OPT_GROUP_GENERATE, "0", NULL, 0, 4294967295.0,
     "the generator's seed (default: 0)", 0},
    {NULL, 0, NULL, TS_OPT_NOTE, TS_OPT_GROUP_GENERATE, "", NULL, 0, 0,
     "  --alpha-range A B, --beta-range A B, --prob-binary P, --prob-colour P (default 0.5),\n"
     "  --spectrum kaji|radial      as toposcope generate\n"
     "  --label-type T, --label-dims N, --max-life A [B], --filtration F, --gradient,\n"
     "  --sigma S, --weight-power N as toposcope label (--type, --dims, ...)",
     0},
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
    {"device", 0, "DEV", TS_OPT_TEXT, TS_OPT_GROUP_RUN, "cpu", NULL, 0, 0,
     "cpu | cuda | cuda:K: where to train (default: cpu; cuda needs a\n"
     "build with -Dcuda=enabled and a GPU; checkpoints are the same)",
     1},
    {"tf32", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "on a CUDA device: TF32 tensor cores (faster, ~1e-3 relative)", 1},
    {"name", 0, "NAME", TS_OPT_TEXT, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "the run's name in the store (default: MODEL on DATA)", 1},
    {"combined", 0, NULL, TS_OPT_FLAG, TS_OPT_GROUP_TASK, "", NULL, 0, 0,
     "pretrain then fine-tune in one command (Kaji's combined mode):\n"
     "two runs in the store, the fine-tuning pointing at the pretraining",
     0},
    {"pretrain-data", 0, "SPEC", TS_OPT_DATA, TS_OPT_GROUP_TASK, "", NULL, 0, 0,
     "--combined: the pretraining data (labels:DIR,CACHE)", 0},
    {"pretrain-val", 0, "SPEC", TS_OPT_DATA, TS_OPT_GROUP_TASK, "", NULL, 0, 0, "its validation set (default: none)",
     0},
    {"pretrain-task", 0, "T", TS_OPT_CHOICE, TS_OPT_GROUP_TASK, "ph", "ph|simultaneous", 0, 0,
     "ph | simultaneous (default: ph)", 0},
    {"pretrain-epochs", 0, "E", TS_OPT_INT, TS_OPT_GROUP_TASK, "", NULL, 0, 1000000, "(default: --epochs)", 0},
    {NULL, 0, NULL, TS_OPT_NOTE, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "  --experiment-id N, --cell TEXT, --parent-run N\n"
     "                        put the run in experiment N at cell TEXT, continuing run N\n"
     "                        (what toposcope experiment passes its fine-tunings)",
     0},
    {"quiet", 'q', NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0, "no per-epoch lines", 1},
    {"probe", 0, "WHAT", TS_OPT_TEXT, TS_OPT_GROUP_PROBE, "", NULL, 0, 0,
     "lifespans,phdim,graph: probe the network's topology (as\n"
     "`toposcope probe` with its defaults) between epochs, into\n"
     "the run's series probe/* at step = epoch",
     0},
    {"probe-epochs", 0, "LIST", TS_OPT_TEXT, TS_OPT_GROUP_PROBE, "0", NULL, 0, 0,
     "after which epochs (0 = before the first step; default: 0)", 0},
    {"probe-layers", 0, "LIST", TS_OPT_TEXT, TS_OPT_GROUP_PROBE, "", NULL, 0, 0,
     "lifespan/phdim layers (default: the architecture's)", 0},
    {"probe-samples", 0, "N", TS_OPT_INT, TS_OPT_GROUP_PROBE, "3000", NULL, 1, 1000000,
     "images for the layer embeddings (default: 3000)", 0},
};

const TsOptSpec *ts_train_options(size_t *n) {
  *n = sizeof train_options / sizeof *train_options;
  return train_options;
}

const TsOptSpec *ts_train_option_find(const char *name) {
  for (size_t i = 0; i < sizeof train_options / sizeof *train_options; i++)
    if (train_options[i].name && strcmp(train_options[i].name, name) == 0) return &train_options[i];
  return NULL;
}

const char *ts_opt_group_title(TsOptGroup g) {
  static const char *titles[TS_OPT_N_GROUPS] = {"Task", "Model", "Data", "Optimisation", "Generated data", "Run",
                                                        "Probing"};
  return (unsigned)g < TS_OPT_N_GROUPS ? titles[g] : "Other";
}

#define HELP_COLUMN 24

void ts_opt_print_help(FILE *f, const TsOptSpec *opts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const TsOptSpec *o = &opts[i];
    if (o->kind == TS_OPT_NOTE) {
      fprintf(f, "%s\n", o->help);
      continue;
    }
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
