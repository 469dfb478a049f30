/* toposcope — one dispatcher for every command (see commands.def). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "base/pool.h"
#include "run/dist.h"
#include "ts-config.h"

typedef struct {
  const char *name;
  int (*run)(int, char **);
  const char *summary;
} Command;

static const Command commands[] = {
#define TS_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef TS_COMMAND
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
  fprintf(f,
          "Usage: toposcope [COMMAND] [OPTIONS]\n"
          "A workbench for topological deep learning.\n\n"
          "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\nWithout a command the workbench starts (toposcope gui).\n"
          "Every command takes --help. Exit codes: 0 success, 1 runtime error, 2 usage error.\n"
          "Several processes (MPI): 'mpirun -np N toposcope generate|label|ph|train ...' or\n"
          "'srun toposcope ...' splits the work by item index (generate, label, ph) or each\n"
          "global batch (train, gradients summed in a fixed order); rank 0 alone writes the\n"
          "store, the label cache and the checkpoints.%s\n"
          "Global options:\n"
          "  -h, --help     show this help\n"
          "  -V, --version  print the version\n",
          TS_HAVE_MPI ? "" : " (This build has no MPI: meson -Dmpi=enabled.)");
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) return ts_cmd_gui(1, (char *[]){"gui", NULL});
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    if (!strcmp(cmd, "help") && argc > 2) {
      for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[2], commands[i].name)) return commands[i].run(2, (char *[]){argv[2], "--help", NULL});
      fprintf(stderr, "toposcope: unknown command '%s'\n", argv[2]);
      return TS_EXIT_USAGE;
    }
    usage(stdout);
    return TS_EXIT_OK;
  }
  if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
    printf("toposcope %s\n", TS_VERSION);
    return TS_EXIT_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "toposcope: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return TS_EXIT_USAGE;
}

/* Under mpirun/srun every rank runs the same command line; the commands that
 * can share work (generate, label, ph, train) ask run/dist.h for their part,
 * the others just run on every rank. Started alone, nothing changes. */
int main(int argc, char **argv) {
  TsError err = {0};
  if (ts_dist_init(&argc, &argv, &err)) {
    fprintf(stderr, "toposcope: %s\n", err.message);
    return TS_EXIT_FAILURE;
  }
  /* Ranks on one host share its cores unless the launcher bound them to
   * their own: default thread counts divide the cores a rank may use by
   * the ranks on the host (a rank bound to one core gets one). */
  if (ts_dist_size() > 1 && ts_cpu_count() > 1) ts_cpu_set_share(ts_dist_local_size());
  int rc = dispatch(argc, argv);
  /* A failure on some ranks may leave others waiting in a collective:
   * then the whole job is ended rather than left hanging (run/dist.h). */
  ts_dist_finish(rc);
  return rc;
}
