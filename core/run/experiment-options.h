/* experiment-options.h — the options of `toposcope experiment`, described once.
 *
 * Like train-options.h for `toposcope train`: `toposcope experiment --help`
 * prints its own option lines from this table and the workbench's Train
 * panel builds its Experiment workflow's form from it, so help and tooltips
 * say the same. The list of training options the command passes on to every
 * fine-tuning is here too: the command parses exactly those, and the panel
 * shows exactly those (their help is train's). Parsing stays with the command. */
#ifndef TS_RUN_EXPERIMENT_OPTIONS_H
#define TS_RUN_EXPERIMENT_OPTIONS_H

#include "run/train-options.h"

/* experiment's own options in --help order (n set to the count). */
const TsOptSpec *ts_experiment_options(size_t *n);
const TsOptSpec *ts_experiment_option_find(const char *name);
/* The names of the train options experiment passes through, NULL-terminated;
 * each is in ts_train_options() (its kind says whether it takes an argument). */
const char *const *ts_experiment_forwarded(void);

#endif
