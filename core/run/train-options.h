/* train-options.h — the options of `toposcope train`, described once.
 *
 * One table says, for every option, its name, its argument, its default as
 * the command line spells it, the group it belongs to and its help text.
 * `toposcope train --help` prints its option lines from it, and the
 * workbench's Train panel builds its form from it (the tooltips are the same
 * text), so the two can never disagree. The table only describes: parsing
 * stays with the command. */
#ifndef TS_RUN_TRAIN_OPTIONS_H
#define TS_RUN_TRAIN_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

typedef enum TsOptKind {
  TS_OPT_FLAG = 0,   /* no argument */
  TS_OPT_INT,
  TS_OPT_FLOAT,
  TS_OPT_CHOICE,     /* one of `choices` ("a|b|c") */
  TS_OPT_TEXT,       /* free text (a list, a schedule, a name) */
  TS_OPT_DATA,       /* a dataset spec (fashion-mnist, folder:DIR, ...) */
  TS_OPT_OPEN_FILE,  /* an existing file (a checkpoint) */
  TS_OPT_SAVE_FILE   /* a file to write */
} TsOptKind;

typedef enum TsOptGroup {
  TS_OPT_GROUP_MODEL = 0,
  TS_OPT_GROUP_DATA,
  TS_OPT_GROUP_OPTIM,
  TS_OPT_GROUP_RUN,
  TS_OPT_N_GROUPS
} TsOptGroup;

typedef struct TsOptSpec {
  const char *name;     /* without the dashes: "lr" */
  char short_name;      /* 'q' for -q, or 0 */
  const char *metavar;  /* "LR"; NULL for flags */
  TsOptKind kind;
  TsOptGroup group;
  const char *def;      /* the default as an argument ("10", "sgd"); "" when the
                           default is computed (then the help says which) */
  const char *choices;  /* TS_OPT_CHOICE: "sgd|adam|adamw" */
  double min, max;      /* TS_OPT_INT / TS_OPT_FLOAT: the range the command accepts */
  const char *help;     /* lines separated by '\n', as --help prints them */
  int resume;           /* may be given with --resume */
} TsOptSpec;

/* The train options in --help order (n set to the count). */
const TsOptSpec *ts_train_options(size_t *n);
const TsOptSpec *ts_train_option_find(const char *name);
const char *ts_opt_group_title(TsOptGroup g);
/* Prints the option lines as --help shows them ("  --lr LR   help..."). */
void ts_opt_print_help(FILE *f, const TsOptSpec *opts, size_t n);

#endif
