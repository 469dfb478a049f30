/* toposcope demo — runs every demo step (demo-steps.def) in a scratch folder. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"

typedef struct {
  const char *name;
  int (*run)(TsDemo *);
} DemoStep;

static const DemoStep steps[] = {
#define TS_DEMO_STEP(name, fn) {name, fn},
#include "demo-steps.def"
#undef TS_DEMO_STEP
    {NULL, NULL}};

/* The demo's closing word: what the run store now holds. */
static int print_runs(TsDemo *demo) {
  TsError err = {0};
  TsRunInfo *runs;
  size_t n;
  if (ts_store_list_runs(demo->store, &runs, &n, &err)) return ts_cli_fail("demo", &err);
  printf("\n== run store ==\n%zu run(s) recorded in %s%s\n", n, demo->store_path,
         n ? " (see 'toposcope runs --store ...'):" : "");
  for (size_t i = 0; i < n; i++) {
    printf("   run %lld  %-9s %-9s %s\n", (long long)runs[i].id, runs[i].kind, ts_run_status_name(runs[i].status),
           runs[i].name);
    ts_run_info_clear(&runs[i]);
  }
  free(runs);
  return TS_EXIT_OK;
}

static void help(void) {
  printf("Usage: toposcope demo [OPTIONS]\n"
         "A short headless run of the core, end to end, on small data: each step\n"
         "prints what it did.\n\n"
         "Options:\n"
         "  -o, --workdir DIR     folder for the demo's files (default: a new folder in /tmp)\n");
  ts_cli_help_common(stdout, 1);
}

int ts_cmd_demo(int argc, char **argv) {
  static const struct option opts[] = {{"workdir", required_argument, 0, 'o'},
                                       {"store", required_argument, 0, 's'},
                                       {"threads", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *workdir = NULL, *store_path = NULL;
  int threads = 0, c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': workdir = optarg; break;
    case 's': store_path = optarg; break;
    case 't':
      if ((rc = ts_cli_threads("demo", optarg, &threads))) return rc;
      break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("demo", optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);

  char tmp[PATH_MAX];
  if (!workdir) {
    snprintf(tmp, sizeof tmp, "/tmp/toposcope-demo-XXXXXX");
    if (!mkdtemp(tmp)) return ts_cli_failf("demo", "cannot create a folder in /tmp");
    workdir = tmp;
  } else if (mkdir(workdir, 0777) != 0 && access(workdir, W_OK) != 0) {
    return ts_cli_failf("demo", "cannot use '%s' as the work folder", workdir);
  }
  char store_buf[PATH_MAX];
  if (!store_path) {
    if (snprintf(store_buf, sizeof store_buf, "%s/runs.sqlite", workdir) >= (int)sizeof store_buf)
      return ts_cli_failf("demo", "work folder name too long");
    store_path = store_buf;
  }

  TsDemo demo = {.workdir = workdir, .store_path = store_path, .threads = threads, .out = stdout};
  if ((rc = ts_cli_open_store("demo", store_path, TS_STORE_WRITE, &demo.store))) return rc;
  printf("Toposcope demo in %s\n", workdir);
  int n = 0;
  for (const DemoStep *s = steps; s->name; s++) {
    double t0 = ts_clock_monotonic();
    printf("\n== %d. %s ==\n", ++n, s->name);
    fflush(stdout);
    if (s->run(&demo) != 0) {
      fprintf(stderr, "toposcope: demo: step '%s' failed\n", s->name);
      ts_store_close(demo.store);
      return TS_EXIT_FAILURE;
    }
    printf("   (%.2f s)\n", ts_clock_monotonic() - t0);
  }
  rc = print_runs(&demo);
  ts_store_close(demo.store);
  if (rc) return rc;
  printf("\nDone: %d steps. Files are in %s\n", n, workdir);
  return TS_EXIT_OK;
}
