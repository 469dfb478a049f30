/* experiment-options.c — the table of `toposcope experiment` options (see the header). */
#include "run/experiment-options.h"

#include <string.h>

static const TsOptSpec experiment_options[] = {
    {"data", 0, "SPEC", TS_OPT_DATA, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "the fine-tuning data (its test split is evaluated)", 0},
    {"val", 0, "SPEC", TS_OPT_DATA, TS_OPT_GROUP_DATA, "", NULL, 0, 0,
     "evaluate on this instead of the test split", 0},
    {"init", 0, "LIST", TS_OPT_TEXT, TS_OPT_GROUP_TASK, "scratch", NULL, 0, 0,
     "scratch and/or pretrained checkpoints, comma-separated\n"
     "(default: scratch)",
     0},
    {"per-class", 0, "LIST", TS_OPT_TEXT, TS_OPT_GROUP_TASK, "all", NULL, 0, 0,
     "training images per class, e.g. 100,20 or all (default: all)", 0},
    {"seeds", 0, "K", TS_OPT_INT, TS_OPT_GROUP_TASK, "3", NULL, 1, 64,
     "seeds 0 .. K-1 (training and subset seed) (default: 3)", 0},
    {"name", 0, "NAME", TS_OPT_TEXT, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "the experiment's name in the store (default: exp-HASH of\n"
     "the settings, so a repeated command resumes it)",
     0},
    {"output", 'o', "PREFIX", TS_OPT_TEXT, TS_OPT_GROUP_RUN, "", NULL, 0, 0,
     "write PREFIX.csv (one row per run) and PREFIX.md (the table)", 0},
    {"jobs", 0, "J", TS_OPT_INT, TS_OPT_GROUP_RUN, "1", NULL, 1, 64,
     "fine-tunings side by side (default: 1); each gets\n"
     "--threads / J threads",
     0},
    {"quiet", 'q', NULL, TS_OPT_FLAG, TS_OPT_GROUP_RUN, "", NULL, 0, 0, "only the table", 0},
};

static const char *const forwarded[] = {"model",      "epochs",     "batch",     "optimizer",      "lr",
                                        "momentum",   "nesterov",   "weight-decay", "schedule",    "augment",
                                        "resize",     "normalize",  "small-stem", "width",         "hidden",
                                        "freeze",     "limit",      "val-limit", "loader-threads", "deterministic",
                                        NULL};

const TsOptSpec *ts_experiment_options(size_t *n) {
  *n = sizeof experiment_options / sizeof experiment_options[0];
  return experiment_options;
}

const TsOptSpec *ts_experiment_option_find(const char *name) {
  for (size_t i = 0; i < sizeof experiment_options / sizeof experiment_options[0]; i++)
    if (strcmp(experiment_options[i].name, name) == 0) return &experiment_options[i];
  return NULL;
}

const char *const *ts_experiment_forwarded(void) { return forwarded; }
