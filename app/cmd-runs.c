/* toposcope runs — list, show, export and delete the runs in a store. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/json.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf("Usage: toposcope runs [list | show ID | export ID --csv [-o FILE] | delete ID [--force]] [OPTIONS]\n"
         "The runs recorded in the run store: every generation, labelling and training job.\n\n"
         "Subcommands:\n"
         "  list                  one line per run, newest first (the default)\n"
         "  show ID               a run's parameters, progress, metrics and artifacts\n"
         "  export ID --csv       the run's metrics as CSV (run,step,epoch,name,value,wall_time)\n"
         "  delete ID             remove a run and its rows (not the files it wrote)\n\n"
         "Options:\n"
         "  --csv                 export format (the only one, and the default)\n"
         "  -o, --output FILE     write the export to FILE (default: stdout)\n"
         "  --force               delete a run even while its process is alive\n");
  ts_cli_help_common(stdout, 0);
}

static void format_time(double t, char *buf, size_t n) {
  if (t <= 0) {
    snprintf(buf, n, "-");
    return;
  }
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void format_duration(const TsRunInfo *r, char *buf, size_t n) {
  double end = r->ended > 0 ? r->ended : (double)time(NULL);
  double d = end - r->started;
  if (r->status == TS_RUN_INTERRUPTED && r->ended <= 0) {
    snprintf(buf, n, "-");
    return;
  }
  if (d < 60) snprintf(buf, n, "%.1fs", d);
  else if (d < 3600) snprintf(buf, n, "%dm%02ds", (int)d / 60, (int)d % 60);
  else snprintf(buf, n, "%dh%02dm", (int)d / 3600, (int)d / 60 % 60);
}

static int parse_id(const char *s, int64_t *id) {
  uint64_t v;
  int rc = ts_cli_u64("runs", "run ID", s, &v);
  if (rc) return rc;
  *id = (int64_t)v;
  return 0;
}

static int cmd_list(TsStore *store) {
  TsError err = {0};
  TsRunInfo *runs;
  size_t n;
  if (ts_store_list_runs(store, &runs, &n, &err)) return ts_cli_fail("runs", &err);
  if (n == 0) {
    printf("No runs in %s\n", ts_store_path(store));
    free(runs);
    return TS_EXIT_OK;
  }
  printf("%5s  %-9s  %-11s  %-19s  %8s  %-13s  %s\n", "ID", "KIND", "STATUS", "STARTED", "TIME", "PROGRESS", "NAME");
  for (size_t i = 0; i < n; i++) {
    TsRunInfo *r = &runs[i];
    char started[32], dur[32], prog[32];
    format_time(r->started, started, sizeof started);
    format_duration(r, dur, sizeof dur);
    if (r->progress_total > 0)
      snprintf(prog, sizeof prog, "%" PRId64 "/%" PRId64, r->progress_done, r->progress_total);
    else snprintf(prog, sizeof prog, "-");
    printf("%5" PRId64 "  %-9s  %-11s  %-19s  %8s  %-13s  %s\n", r->id, r->kind, ts_run_status_name(r->status),
           started, dur, prog, r->name);
    ts_run_info_clear(r);
  }
  free(runs);
  return TS_EXIT_OK;
}

static int cmd_show(TsStore *store, int64_t id) {
  TsError err = {0};
  TsRunInfo r;
  if (ts_store_get_run(store, id, &r, &err)) return ts_cli_fail("runs", &err);
  char started[32], ended[32], dur[32];
  format_time(r.started, started, sizeof started);
  format_time(r.ended, ended, sizeof ended);
  format_duration(&r, dur, sizeof dur);
  printf("Run %" PRId64 ": %s%s%s\n", r.id, r.kind, r.name[0] ? " " : "", r.name);
  printf("  status    %s\n", ts_run_status_name(r.status));
  printf("  started   %s\n  ended     %s\n  duration  %s\n", started, ended, dur);
  printf("  process   %" PRId64 " on %s\n", r.pid, r.host);
  if (r.progress_total > 0)
    printf("  progress  %" PRId64 "/%" PRId64 " (%.0f%%)\n", r.progress_done, r.progress_total,
           100.0 * (double)r.progress_done / (double)r.progress_total);
  if (r.message && *r.message) printf("  message   %s\n", r.message);
  if (r.params_json) {
    char *pretty = ts_json_pretty(r.params_json);
    printf("  parameters\n");
    for (char *line = strtok(pretty ? pretty : r.params_json, "\n"); line; line = strtok(NULL, "\n"))
      printf("    %s\n", line);
    free(pretty);
  }
  char **names;
  size_t nn;
  int rc = TS_EXIT_OK;
  if (ts_store_metric_names(store, id, &names, &nn, &err) == TS_OK) {
    if (nn) printf("  metrics (rows, last step: last value)\n");
    for (size_t i = 0; i < nn; i++) {
      int64_t cursor = 0;
      TsMetricRow *rows;
      size_t count;
      if (ts_store_read_metric(store, id, names[i], &cursor, &rows, &count, &err) == TS_OK && count) {
        printf("    %-24s %8zu  step %" PRId64 ": %.6g\n", names[i], count, rows[count - 1].step,
               rows[count - 1].value);
      }
      free(rows);
    }
    ts_store_free_strings(names, nn);
  } else {
    rc = ts_cli_fail("runs", &err);
  }
  char **kinds, **paths;
  size_t na;
  if (ts_store_artifacts(store, id, &kinds, &paths, &na, &err) == TS_OK) {
    if (na) printf("  artifacts\n");
    for (size_t i = 0; i < na; i++) printf("    %-12s %s\n", kinds[i], paths[i]);
    ts_store_free_strings(kinds, na);
    ts_store_free_strings(paths, na);
  } else {
    rc = ts_cli_fail("runs", &err);
  }
  ts_run_info_clear(&r);
  return rc;
}

static int cmd_export(TsStore *store, int64_t id, const char *output) {
  TsError err = {0};
  TsRunInfo r;
  if (ts_store_get_run(store, id, &r, &err)) return ts_cli_fail("runs", &err);
  ts_run_info_clear(&r);
  FILE *f = stdout;
  if (output && !(f = fopen(output, "w"))) return ts_cli_failf("runs", "cannot write '%s'", output);
  fprintf(f, "run,step,epoch,name,value,wall_time\n");
  char **names;
  size_t nn;
  int rc = TS_EXIT_OK;
  if (ts_store_metric_names(store, id, &names, &nn, &err)) {
    rc = ts_cli_fail("runs", &err);
    nn = 0;
    names = NULL;
  }
  for (size_t i = 0; i < nn && rc == TS_EXIT_OK; i++) {
    int64_t cursor = 0;
    TsMetricRow *rows;
    size_t count;
    if (ts_store_read_metric(store, id, names[i], &cursor, &rows, &count, &err)) {
      rc = ts_cli_fail("runs", &err);
      break;
    }
    /* names are ours (no commas), but quote them anyway for CSV readers */
    for (size_t k = 0; k < count; k++) {
      fprintf(f, "%" PRId64 ",%" PRId64 ",%" PRId64 ",\"%s\",", id, rows[k].step, rows[k].epoch, names[i]);
      if (isnan(rows[k].value)) fprintf(f, "nan");
      else fprintf(f, "%.17g", rows[k].value);
      fprintf(f, ",%.3f\n", rows[k].wall_time);
    }
    free(rows);
  }
  ts_store_free_strings(names, nn);
  if (f != stdout && fclose(f) != 0 && rc == TS_EXIT_OK) rc = ts_cli_failf("runs", "cannot write '%s'", output);
  return rc;
}

static int cmd_delete(TsStore *store, int64_t id, int force) {
  TsError err = {0};
  TsRunInfo r;
  if (ts_store_get_run(store, id, &r, &err)) return ts_cli_fail("runs", &err);
  int running = r.status == TS_RUN_RUNNING;
  ts_run_info_clear(&r);
  if (running && !force)
    return ts_cli_failf("runs", "run %" PRId64 " is still running: stop it first, or pass --force", id);
  if (ts_store_delete_run(store, id, &err)) return ts_cli_fail("runs", &err);
  printf("Deleted run %" PRId64 "\n", id);
  return TS_EXIT_OK;
}

int ts_cmd_runs(int argc, char **argv) {
  static const struct option opts[] = {{"store", required_argument, 0, 's'},
                                       {"csv", no_argument, 0, 'c'},
                                       {"output", required_argument, 0, 'o'},
                                       {"force", no_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *store_path = NULL, *output = NULL;
  int force = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case 's': store_path = optarg; break;
    case 'c': break;
    case 'o': output = optarg; break;
    case 'f': force = 1; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("runs", optopt, argv[optind - 1]);
    }
  }
  const char *sub = optind < argc ? argv[optind++] : "list";
  int needs_id = strcmp(sub, "list") != 0;
  if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "export") && strcmp(sub, "delete"))
    return ts_cli_usage_error("runs", "unknown subcommand '%s' (list, show, export, delete)", sub);
  int64_t id = 0;
  if (needs_id) {
    if (optind >= argc) return ts_cli_usage_error("runs", "'%s' needs a run ID", sub);
    int rc = parse_id(argv[optind++], &id);
    if (rc) return rc;
  }
  if (optind < argc) return ts_cli_usage_error("runs", "unexpected argument '%s'", argv[optind]);

  /* A new user's first command: no store yet is not an error, but an
   * explicit --store that does not exist is (a typo must not look empty). */
  if (!store_path && !strcmp(sub, "list")) {
    char def[4096];
    TsError err = {0};
    struct stat sb;
    if (ts_store_default_path(def, sizeof def, &err)) return ts_cli_fail("runs", &err);
    if (stat(def, &sb) != 0 && errno == ENOENT) {
      printf("No runs yet. The run store will be %s\n"
             "(created by the first generate, label or train job; --store PATH uses another).\n",
             def);
      return TS_EXIT_OK;
    }
  }
  TsStore *store;
  int rc = ts_cli_open_store("runs", store_path, strcmp(sub, "delete") ? TS_STORE_READ : TS_STORE_WRITE, &store);
  if (rc) return rc;
  if (!strcmp(sub, "list")) rc = cmd_list(store);
  else if (!strcmp(sub, "show")) rc = cmd_show(store, id);
  else if (!strcmp(sub, "export")) rc = cmd_export(store, id, output);
  else rc = cmd_delete(store, id, force);
  ts_store_close(store);
  return rc;
}
