/* toposcope experiment — Kaji's comparison table in one command: for every
 * initialisation (scratch or a pretrained checkpoint) x every --per-class
 * value x every seed, one fine-tuning (`toposcope train`, run as a child
 * process so --jobs can run several side by side), evaluated on the test
 * split; then a table of mean +- std (sample std, n - 1) and every seed's
 * top-1, top-5 accuracy and the final training loss, written also as CSV and
 * Markdown.
 *
 * The runs are grouped in the store under one experiment (schema 2), each
 * at its cell "init=NAME per_class=N seed=S"; the experiment is named by
 * --name or, by default, by a hash of its settings, so running the same
 * command again resumes it: finished cells are read back, a stopped or
 * interrupted one continues from its checkpoint, a failed one is run
 * again. Seed S is both the training seed and the subset seed, so every
 * initialisation sees the same images for a given seed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/json.h"
#include "cli.h"
#include "commands.h"
#include "run/experiment-options.h"
#include "run/store.h"

#define MAX_INITS 16
#define MAX_PER_CLASS 16
#define MAX_SEEDS 64
#define MAX_FORWARD 64

static void help(void) {
  printf("Usage: toposcope experiment --data SPEC --init scratch,CKPT,... [OPTIONS] [TRAINING OPTIONS]\n"
         "Fine-tunes every initialisation x every --per-class value x every seed, evaluates\n"
         "each on the test split and prints a table: mean +- std over the seeds and every\n"
         "seed's top-1, top-5 accuracy, final training loss. The runs are grouped under one\n"
         "experiment in the store; the same command again resumes a stopped experiment.\n\n"
         "Options:\n");
  size_t n;
  const TsOptSpec *o = ts_experiment_options(&n);
  ts_opt_print_help(stdout, o, n);
  /* the pass-through list, wrapped as --help wraps */
  printf("Training options passed to every fine-tuning (see toposcope train --help):\n ");
  int col = 1;
  for (const char *const *f = ts_experiment_forwarded(); *f; f++) {
    int len = (int)strlen(*f) + 3 + (f[1] ? 1 : 0);
    if (col + len > 80) printf("\n "), col = 1;
    col += printf(" --%s%s", *f, f[1] ? "," : "\n");
  }
  ts_cli_help_common(stdout, 1);
}

typedef struct Cell {
  int init, pc, seed;
  char key[256];
  int64_t run;
  int done;      /* 1: results read */
  double top1, top5, loss;
  pid_t pid;
  int state;     /* 0 waiting, 1 running, 2 finished, 3 failed */
} Cell;

typedef struct Exp {
  const char *data, *val, *store_path, *exe;
  char *inits[MAX_INITS];
  char init_names[MAX_INITS][128];
  int n_inits;
  long per_class[MAX_PER_CLASS];
  int n_pc;
  int seeds, jobs, threads, quiet;
  char *fwd[MAX_FORWARD];
  char fwd_owned[MAX_FORWARD]; /* strdup'd option names */
  int n_fwd;
  long epochs;
  int64_t exp_id;
  Cell *cells;
  int n_cells;
} Exp;

static int split_list(const char *cmd, const char *opt, const char *s, char **out, int max, int *n) {
  char *buf = strdup(s);
  if (!buf) return ts_cli_failf(cmd, "out of memory");
  *n = 0;
  for (char *sv = NULL, *tok = strtok_r(buf, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
    if (*n == max) {
      free(buf);
      return ts_cli_usage_error(cmd, "%s: at most %d values", opt, max);
    }
    out[(*n)++] = strdup(tok);
  }
  free(buf);
  if (!*n) return ts_cli_usage_error(cmd, "%s: an empty list", opt);
  return 0;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static char *params_json(const Exp *e) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "data", e->data);
  ts_json_kv_string(&j, "val", e->val ? e->val : "");
  ts_json_key(&j, "init");
  ts_json_array_begin(&j);
  for (int i = 0; i < e->n_inits; i++) ts_json_string(&j, e->inits[i]);
  ts_json_array_end(&j);
  ts_json_key(&j, "per_class");
  ts_json_array_begin(&j);
  for (int i = 0; i < e->n_pc; i++) ts_json_int(&j, e->per_class[i]);
  ts_json_array_end(&j);
  ts_json_kv_int(&j, "seeds", e->seeds);
  ts_json_key(&j, "train_options");
  ts_json_array_begin(&j);
  for (int i = 0; i < e->n_fwd; i++) ts_json_string(&j, e->fwd[i]);
  ts_json_array_end(&j);
  ts_json_object_end(&j);
  return ts_json_steal(&j);
}

/* The last value of a metric of a run (NaN when none). */
static double last_metric(TsStore *s, int64_t run, const char *name) {
  int64_t cursor = 0;
  TsMetricRow *rows = NULL;
  size_t n = 0;
  double v = NAN;
  if (ts_store_read_metric(s, run, name, &cursor, &rows, &n, NULL) == TS_OK && n) v = rows[n - 1].value;
  free(rows);
  return v;
}

/* The checkpoint a run recorded last, if the file is there (malloc'd). */
static char *run_checkpoint(TsStore *s, int64_t run) {
  char **kinds, **paths;
  size_t n;
  char *out = NULL;
  if (ts_store_artifacts(s, run, &kinds, &paths, &n, NULL) != TS_OK) return NULL;
  for (size_t i = n; i-- > 0 && !out;)
    if (strcmp(kinds[i], "checkpoint") == 0 && access(paths[i], R_OK) == 0) out = strdup(paths[i]);
  ts_store_free_strings(kinds, n);
  ts_store_free_strings(paths, n);
  return out;
}

/* Looks at what the store holds for each cell: finished runs give their
 * results; a stopped one gives the checkpoint to resume (resume[i]). */
static int read_cells(Exp *e, TsStore *s, char **resume) {
  TsRunInfo *runs;
  size_t n;
  TsError err = {0};
  if (ts_store_experiment_runs(s, e->exp_id, &runs, &n, &err)) return ts_cli_fail("experiment", &err);
  for (int c = 0; c < e->n_cells; c++) {
    Cell *cell = &e->cells[c];
    const TsRunInfo *best = NULL;
    for (size_t i = 0; i < n; i++)
      if (strcmp(runs[i].cell, cell->key) == 0 && (!best || runs[i].status == TS_RUN_FINISHED ||
                                                   best->status != TS_RUN_FINISHED))
        best = &runs[i];
    if (!best) continue;
    if (best->status == TS_RUN_FINISHED) {
      cell->run = best->id;
      cell->top1 = last_metric(s, best->id, "val/accuracy");
      cell->top5 = last_metric(s, best->id, "val/top5");
      cell->loss = last_metric(s, best->id, "train/epoch_loss");
      cell->done = 1;
      cell->state = 2;
    } else if (resume && (best->status == TS_RUN_STOPPED || best->status == TS_RUN_INTERRUPTED)) {
      resume[c] = run_checkpoint(s, best->id);
    }
  }
  for (size_t i = 0; i < n; i++) ts_run_info_clear(&runs[i]);
  free(runs);
  return 0;
}

static pid_t launch(const Exp *e, const Cell *cell, const char *resume) {
  const char *argv[MAX_FORWARD + 48];
  char seed[32], pc[32], expid[32], thr[32], ep[32];
  int a = 0;
  snprintf(seed, sizeof seed, "%d", cell->seed);
  snprintf(pc, sizeof pc, "%ld", e->per_class[cell->pc]);
  snprintf(expid, sizeof expid, "%" PRId64, e->exp_id);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int total = e->threads > 0 ? e->threads : (int)(cores > 0 ? cores : 1);
  snprintf(thr, sizeof thr, "%d", total / e->jobs > 0 ? total / e->jobs : 1);
  argv[a++] = e->exe;
  argv[a++] = "train";
  if (resume) {
    argv[a++] = "--resume";
    argv[a++] = resume;
    if (e->epochs >= 0) {
      snprintf(ep, sizeof ep, "%ld", e->epochs);
      argv[a++] = "--epochs";
      argv[a++] = ep;
    }
    if (e->val) argv[a++] = "--val", argv[a++] = e->val;
  } else {
    argv[a++] = "--data";
    argv[a++] = e->data;
    if (e->val) argv[a++] = "--val", argv[a++] = e->val;
    if (strcmp(e->inits[cell->init], "scratch") != 0) argv[a++] = "--init", argv[a++] = e->inits[cell->init];
    if (e->per_class[cell->pc] > 0) argv[a++] = "--per-class", argv[a++] = pc;
    argv[a++] = "--seed";
    argv[a++] = seed;
    argv[a++] = "--subset-seed";
    argv[a++] = seed;
    argv[a++] = "--experiment-id";
    argv[a++] = expid;
    argv[a++] = "--cell";
    argv[a++] = cell->key;
    argv[a++] = "--name";
    argv[a++] = cell->key;
    for (int i = 0; i < e->n_fwd; i++) argv[a++] = e->fwd[i];
  }
  if (e->store_path) argv[a++] = "--store", argv[a++] = e->store_path;
  argv[a++] = "--threads";
  argv[a++] = thr;
  argv[a++] = "-q";
  argv[a] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    /* the fine-tuning's own output would interleave: only its errors show */
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execv(e->exe, (char *const *)(void *)argv);
    fprintf(stderr, "toposcope: experiment: cannot run %s: %s\n", e->exe, strerror(errno));
    _exit(127);
  }
  return pid;
}

static void mean_std(const double *v, int n, double *m, double *sd) {
  double s = 0;
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(v[i])) s += v[i], k++;
  *m = k ? s / k : NAN;
  double q = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(v[i])) q += (v[i] - *m) * (v[i] - *m);
  *sd = k > 1 ? sqrt(q / (k - 1)) : (k ? 0 : NAN);
}

/* One table, as text (md = 0) or Markdown (md = 1). */
static void print_table(FILE *f, const Exp *e, int md) {
  const char *sep = md ? " | " : "  ";
  if (md) fprintf(f, "| ");
  fprintf(f, md ? "init | per class | top-1 %% | top-5 %% | train loss | top-1 %% per seed |\n"
                : "%-24s  %9s  %-14s  %-14s  %-15s  %s\n",
          "init", "per class", "top-1 %", "top-5 %", "train loss", "top-1 % per seed");
  if (md) fprintf(f, "|---|---:|---:|---:|---:|---|\n");
  for (int i = 0; i < e->n_inits; i++)
    for (int p = 0; p < e->n_pc; p++) {
      double t1[MAX_SEEDS], t5[MAX_SEEDS], lo[MAX_SEEDS];
      int k = 0;
      for (int c = 0; c < e->n_cells; c++) {
        const Cell *cell = &e->cells[c];
        if (cell->init != i || cell->pc != p) continue;
        t1[k] = cell->done ? 100 * cell->top1 : NAN;
        t5[k] = cell->done ? 100 * cell->top5 : NAN;
        lo[k] = cell->done ? cell->loss : NAN;
        k++;
      }
      double m1, s1, m5, s5, ml, sl;
      mean_std(t1, k, &m1, &s1);
      mean_std(t5, k, &m5, &s5);
      mean_std(lo, k, &ml, &sl);
      char pcs[32], a[48], b[48], l[48];
      if (e->per_class[p] > 0) snprintf(pcs, sizeof pcs, "%ld", e->per_class[p]);
      else snprintf(pcs, sizeof pcs, "all");
      snprintf(a, sizeof a, "%.2f +- %.2f", m1, s1);
      snprintf(b, sizeof b, "%.2f +- %.2f", m5, s5);
      snprintf(l, sizeof l, "%.4f +- %.4f", ml, sl);
      if (md) fprintf(f, "| %s%s%s%s%s%s%s%s%s%s", e->init_names[i], sep, pcs, sep, a, sep, b, sep, l, sep);
      else fprintf(f, "%-24s  %9s  %-14s  %-14s  %-15s  ", e->init_names[i], pcs, a, b, l);
      for (int s = 0; s < k; s++) fprintf(f, s ? " %.2f" : "%.2f", t1[s]);
      fprintf(f, md ? " |\n" : "\n");
    }
}

static int write_outputs(const Exp *e, const char *prefix) {
  char path[4200];
  snprintf(path, sizeof path, "%s.csv", prefix);
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return ts_cli_failf("experiment", "cannot write '%s': %s", tmp, strerror(errno));
  fprintf(f, "init,per_class,seed,run,top1,top5,train_loss\n");
  for (int c = 0; c < e->n_cells; c++) {
    const Cell *cell = &e->cells[c];
    fprintf(f, "%s,%ld,%d,%" PRId64 ",%.6f,%.6f,%.6f\n", e->init_names[cell->init], e->per_class[cell->pc],
            cell->seed, cell->run, cell->top1, cell->top5, cell->loss);
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    return ts_cli_failf("experiment", "cannot write '%s': %s", path, strerror(errno));
  snprintf(path, sizeof path, "%s.md", prefix);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (!(f = fopen(tmp, "w"))) return ts_cli_failf("experiment", "cannot write '%s': %s", tmp, strerror(errno));
  print_table(f, e, 1);
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    return ts_cli_failf("experiment", "cannot write '%s': %s", path, strerror(errno));
  return 0;
}

static int run_cells(Exp *e, TsStore *store, char **resume) {
  int running = 0, failed = 0, next = 0;
  volatile int *stop = ts_cli_stop_flag();
  int forwarded = 0;
  for (;;) {
    while (!*stop && running < e->jobs && next < e->n_cells) {
      Cell *cell = &e->cells[next++];
      if (cell->state == 2) continue;
      if (!e->quiet) {
        printf("%s%s\n", cell->key, resume[cell - e->cells] ? " (resuming)" : "");
        fflush(stdout);
      }
      cell->pid = launch(e, cell, resume[cell - e->cells]);
      if (cell->pid < 0) return ts_cli_failf("experiment", "cannot start a fine-tuning: %s", strerror(errno));
      cell->state = 1;
      running++;
    }
    if (!running) break;
    if (*stop && !forwarded) {
      /* a SIGTERM to us alone: the fine-tunings checkpoint and stop too */
      for (int c = 0; c < e->n_cells; c++)
        if (e->cells[c].state == 1) kill(e->cells[c].pid, SIGTERM);
      forwarded = 1;
    }
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      usleep(50000);
      continue;
    }
    for (int c = 0; c < e->n_cells; c++) {
      Cell *cell = &e->cells[c];
      if (cell->state != 1 || cell->pid != pid) continue;
      running--;
      int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      cell->state = ok ? 2 : 3;
      if (!ok && !*stop) {
        failed++;
        fprintf(stderr, "toposcope: experiment: the fine-tuning %s failed (exit %d)\n", cell->key,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
  }
  if (read_cells(e, store, NULL)) return 1;
  if (*stop) {
    fprintf(stderr, "toposcope: experiment: stopped; run the same command again to resume\n");
    return ts_cli_stop_exit_code();
  }
  return failed ? 1 : 0;
}

int ts_cmd_experiment(int argc, char **argv) {
  enum { O_DATA = 256, O_VAL, O_INIT, O_PC, O_SEEDS, O_NAME, O_JOBS, O_STORE, O_THREADS, O_FWD_ARG, O_FWD_FLAG };
  struct option opts[64];
  int no = 0;
  opts[no++] = (struct option){"data", required_argument, 0, O_DATA};
  opts[no++] = (struct option){"val", required_argument, 0, O_VAL};
  opts[no++] = (struct option){"init", required_argument, 0, O_INIT};
  opts[no++] = (struct option){"per-class", required_argument, 0, O_PC};
  opts[no++] = (struct option){"seeds", required_argument, 0, O_SEEDS};
  opts[no++] = (struct option){"name", required_argument, 0, O_NAME};
  opts[no++] = (struct option){"output", required_argument, 0, 'o'};
  opts[no++] = (struct option){"jobs", required_argument, 0, O_JOBS};
  opts[no++] = (struct option){"store", required_argument, 0, O_STORE};
  opts[no++] = (struct option){"threads", required_argument, 0, O_THREADS};
  opts[no++] = (struct option){"quiet", no_argument, 0, 'q'};
  opts[no++] = (struct option){"help", no_argument, 0, 'h'};
  for (const char *const *f = ts_experiment_forwarded(); *f; f++) {
    int flag = ts_train_option_find(*f)->kind == TS_OPT_FLAG;
    opts[no++] = (struct option){*f, flag ? no_argument : required_argument, 0, flag ? O_FWD_FLAG : O_FWD_ARG};
  }
  opts[no] = (struct option){0, 0, 0, 0};

  Exp e = {.seeds = 3, .jobs = 1, .epochs = -1};
  const char *init = "scratch", *pc = "all", *name = NULL, *out = NULL;
  int c, rc, idx;
  long v;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:qh", opts, &idx)) != -1) {
    switch (c) {
    case O_DATA: e.data = optarg; break;
    case O_VAL: e.val = optarg; break;
    case O_INIT: init = optarg; break;
    case O_PC: pc = optarg; break;
    case O_SEEDS: if ((rc = ts_cli_int("experiment", "--seeds", optarg, 1, MAX_SEEDS, &v))) return rc; e.seeds = (int)v; break;
    case O_NAME: name = optarg; break;
    case 'o': out = optarg; break;
    case O_JOBS: if ((rc = ts_cli_int("experiment", "--jobs", optarg, 1, 64, &v))) return rc; e.jobs = (int)v; break;
    case O_STORE: e.store_path = optarg; break;
    case O_THREADS: if ((rc = ts_cli_threads("experiment", optarg, &e.threads))) return rc; break;
    case 'q': e.quiet = 1; break;
    case 'h': help(); return TS_EXIT_OK;
    case O_FWD_ARG:
    case O_FWD_FLAG: {
      if (e.n_fwd + 2 > MAX_FORWARD) return ts_cli_usage_error("experiment", "too many training options");
      char opt[64];
      snprintf(opt, sizeof opt, "--%s", opts[idx].name);
      e.fwd_owned[e.n_fwd] = 1;
      e.fwd[e.n_fwd++] = strdup(opt);
      if (c == O_FWD_ARG) e.fwd[e.n_fwd++] = optarg;
      if (strcmp(opts[idx].name, "epochs") == 0 &&
          (rc = ts_cli_int("experiment", "--epochs", optarg, 0, 1000000, &e.epochs)))
        return rc;
      break;
    }
    default: return ts_cli_bad_option("experiment", optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error("experiment", "unexpected argument '%s'", argv[optind]);
  if (!e.data) return ts_cli_usage_error("experiment", "--data is required");
  if ((rc = split_list("experiment", "--init", init, e.inits, MAX_INITS, &e.n_inits))) return rc;
  char *pcs[MAX_PER_CLASS];
  int npc;
  if ((rc = split_list("experiment", "--per-class", pc, pcs, MAX_PER_CLASS, &npc))) return rc;
  for (int i = 0; i < npc; i++) {
    if (strcmp(pcs[i], "all") == 0) e.per_class[i] = 0;
    else if ((rc = ts_cli_int("experiment", "--per-class", pcs[i], 1, LONG_MAX, &e.per_class[i]))) return rc;
    free(pcs[i]);
  }
  e.n_pc = npc;
  for (int i = 0; i < e.n_inits; i++) {
    const char *s = e.inits[i];
    if (strcmp(s, "scratch") != 0 && access(s, R_OK) != 0)
      return ts_cli_failf("experiment", "--init '%s': %s", s, strerror(errno));
    const char *base = strrchr(s, '/');
    snprintf(e.init_names[i], sizeof e.init_names[i], "%s", base ? base + 1 : s);
    /* a name for tables and CSV: the file name without its extension */
    char *dot = strrchr(e.init_names[i], '.');
    if (dot && dot != e.init_names[i]) *dot = '\0';
  }
  static char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return ts_cli_failf("experiment", "cannot find the toposcope executable");
  exe[n] = '\0';
  e.exe = exe;

  /* cells, in the order of the table */
  e.n_cells = e.n_inits * e.n_pc * e.seeds;
  e.cells = calloc((size_t)e.n_cells, sizeof *e.cells);
  char **resume = calloc((size_t)e.n_cells, sizeof *resume);
  if (!e.cells || !resume) return ts_cli_failf("experiment", "out of memory");
  int k = 0;
  for (int i = 0; i < e.n_inits; i++)
    for (int p = 0; p < e.n_pc; p++)
      for (int s = 0; s < e.seeds; s++) {
        Cell *cell = &e.cells[k++];
        cell->init = i, cell->pc = p, cell->seed = s;
        cell->top1 = cell->top5 = cell->loss = NAN;
        char pcs1[32];
        if (e.per_class[p] > 0) snprintf(pcs1, sizeof pcs1, "%ld", e.per_class[p]);
        else snprintf(pcs1, sizeof pcs1, "all");
        snprintf(cell->key, sizeof cell->key, "init=%s per_class=%s seed=%d", e.init_names[i], pcs1, s);
      }

  TsStore *store = NULL;
  ts_cli_install_stop_handlers();
  if ((rc = ts_cli_open_store("experiment", e.store_path, TS_STORE_WRITE, &store))) return rc;
  if (!e.store_path) e.store_path = ts_store_path(store);
  char *params = params_json(&e);
  char ename[160];
  if (name) snprintf(ename, sizeof ename, "%s", name);
  else snprintf(ename, sizeof ename, "exp-%08llx", (unsigned long long)(fnv1a(params ? params : "") & 0xffffffffu));
  TsError err = {0};
  int existed = 0;
  if (ts_store_experiment_open(store, ename, "finetune", params, &e.exp_id, &existed, &err)) {
    free(params);
    ts_store_close(store);
    return ts_cli_fail("experiment", &err);
  }
  free(params);
  rc = existed ? read_cells(&e, store, resume) : 0;
  if (!rc && !e.quiet) {
    int done = 0;
    for (int i = 0; i < e.n_cells; i++) done += e.cells[i].state == 2;
    printf("experiment '%s' (%d fine-tunings%s)\n", ename, e.n_cells, existed ? "" : ", new");
    if (done) printf("%d already done\n", done);
    fflush(stdout);
  }
  if (!rc) rc = run_cells(&e, store, resume);
  ts_store_close(store);
  if (rc != TS_EXIT_OK && rc != 1) goto done; /* stopped */
  printf("\n");
  print_table(stdout, &e, 0);
  if (out) {
    int wrc = write_outputs(&e, out);
    if (wrc) rc = wrc;
    else if (!e.quiet) printf("\nwritten: %s.csv, %s.md\n", out, out);
  }
done:
  for (int i = 0; i < e.n_cells; i++) free(resume[i]);
  free(resume);
  free(e.cells);
  for (int i = 0; i < e.n_inits; i++) free(e.inits[i]);
  for (int i = 0; i < e.n_fwd; i++)
    if (e.fwd_owned[i]) free(e.fwd[i]);
  return rc;
}
