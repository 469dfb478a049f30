/* toposcope ph — cubical persistent homology of images and volumes.
 *
 * Each INPUT (JPEG, PNG, PGM/PPM, .npy with 1 to 4 axes) becomes a scalar
 * field (--filtration), then a diagram with birth and death locations,
 * written as CSV (header dim,birth,death,birth_x,...,death_z), .npy (n x 9
 * float64, CubicalRipser's layout) or a DIPHA diagram. Inputs are processed
 * in parallel, one per pool task; a failing input is reported and the
 * others still done (exit status 1 at the end). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "base/array.h"
#include "base/clock.h"
#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "image/codec.h"
#include "image/filtration.h"
#include "image/image.h"
#include "ph/cubical.h"
#include "run/dist.h"

#define CMD "ph"

typedef enum { OUT_CSV = 0, OUT_NPY, OUT_DIPHA } OutFormat;

static const char *format_ext[] = {"csv", "npy", "dipha"};

static void help(void) {
  printf("Usage: toposcope ph INPUT... [OPTIONS]\n"
         "Persistent homology (Z/2) of the sublevel sets of images and volumes, with the\n"
         "grid coordinates of every birth and death.\n"
         "INPUT: JPEG, PNG, PGM/PPM, or .npy with 1 to 4 axes (any numeric dtype).\n\n"
         "Options:\n"
         "  -c, --construction C    v: pixels are vertices (CubicalRipser, default);\n"
         "                          t: pixels are top cells (GUDHI top_dimensional_cells)\n"
         "  -d, --maxdim K          highest homology dimension (default: number of axes - 1)\n"
         "  -f, --filtration F      raw (values as stored; colour: channel mean, default),\n"
         "                          grey, distance, signed-distance, gradient (pictures only)\n"
         "      --superlevel        superlevel sets (births above deaths, essential death -inf)\n"
         "      --threshold T       leave out cells with values beyond T (default: none)\n"
         "      --min-persistence P drop pairs with |death - birth| <= P (default 0)\n"
         "      --format FMT        csv (default), npy (n x 9 float64) or dipha; default from\n"
         "                          the -o file's extension\n"
         "  -o, --output OUT        file for one input (default: CSV on stdout); a folder\n"
         "                          for several (one NAME.FMT per input)\n"
         "Under mpirun/srun the inputs are shared out by position (each rank writes its\n"
         "own outputs); one input runs on rank 0.\n");
  ts_cli_help_common(stdout, 1);
}

/* ---- input: a file to a float64 grid --------------------------------- */

typedef struct Field {
  double *v;
  int ndim;
  size_t shape[4];
  int empty; /* a constant picture under a binarising filtration: no diagram */
} Field;

static TsStatus load_field(const char *path, TsFiltrationKind kind, Field *f, TsError *err) {
  memset(f, 0, sizeof *f);
  TsImageFormat fmt = ts_image_format_from_name(path);
  if (kind == TS_FILT_RAW) {
    TsArray a = {0};
    TsStatus st = ts_array_load(path, &a, err);
    if (st) return st;
    int colour = fmt != TS_FORMAT_NPY && a.ndim == 3 && a.shape[2] <= 4;
    if (a.dtype == TS_F64) { /* take the buffer rather than copy it; NaN is the engine's error */
      f->v = a.data;
      a.data = NULL;
    } else st = ts_array_to_f64(&a, &f->v, err);
    if (st) {
      ts_error_prefix(err, "'%s'", path);
      ts_array_clear(&a);
      return st;
    }
    f->ndim = colour ? 2 : a.ndim;
    for (int i = 0; i < a.ndim; i++) f->shape[i] = a.shape[i];
    if (colour) { /* channel mean, in place */
      size_t n = a.shape[0] * a.shape[1], c = a.shape[2];
      for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < c; k++) s += f->v[i * c + k];
        f->v[i] = s / (double)c;
      }
    }
    ts_array_clear(&a);
    return TS_OK;
  }
  TsImage img = {0};
  TsStatus st = ts_image_load(path, &img, err);
  if (st) return st;
  TsFiltrationOptions fo;
  ts_filtration_options_default(&fo);
  fo.kind = kind;
  int w = 0, h = 0, constant = 0;
  st = ts_filtration_apply(&img, &fo, &f->v, &w, &h, &constant, err);
  ts_image_clear(&img);
  if (st) {
    ts_error_prefix(err, "'%s'", path);
    return st;
  }
  f->ndim = 2;
  f->shape[0] = (size_t)h;
  f->shape[1] = (size_t)w;
  f->empty = constant;
  return TS_OK;
}

/* ---- output ------------------------------------------------------------ */

/* Columns: dim, birth, death, then birth and death coordinates along axes
 * 0..2 (x, y, z), plus axis 3 (w) at the end for 4D grids; -1 where unused. */
static int ncols(int ndim) { return ndim == 4 ? 11 : 9; }

static void pair_row(const TsPair *p, int ndim, double *row) {
  row[0] = p->dim;
  row[1] = p->birth;
  row[2] = p->death;
  for (int i = 0; i < 3; i++) {
    row[3 + i] = p->birth_at[i];
    row[6 + i] = p->death_at[i];
  }
  if (ndim == 4) {
    row[9] = p->birth_at[3];
    row[10] = p->death_at[3];
  }
}

static int write_csv(FILE *f, const TsDiagram *d, int ndim) {
  fputs("dim,birth,death,birth_x,birth_y,birth_z,death_x,death_y,death_z", f);
  fputs(ndim == 4 ? ",birth_w,death_w\n" : "\n", f);
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    fprintf(f, "%d,%.17g,%.17g,%d,%d,%d,%d,%d,%d", p->dim, p->birth, p->death, p->birth_at[0], p->birth_at[1],
            p->birth_at[2], p->death_at[0], p->death_at[1], p->death_at[2]);
    if (ndim == 4) fprintf(f, ",%d,%d", p->birth_at[3], p->death_at[3]);
    fputc('\n', f);
  }
  return ferror(f) ? -1 : 0;
}

static int write_npy(FILE *f, const TsDiagram *d, int ndim) {
  int nc = ncols(ndim);
  char head[128];
  int len = snprintf(head, sizeof head, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %d), }", d->n, nc);
  int total = 10 + len + 1, pad = (64 - total % 64) % 64;
  uint16_t hl = (uint16_t)(len + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(hl & 0xff, f);
  fputc(hl >> 8, f);
  fwrite(head, 1, (size_t)len, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  double row[11];
  for (size_t i = 0; i < d->n; i++) {
    pair_row(&d->pairs[i], ndim, row);
    fwrite(row, sizeof(double), (size_t)nc, f);
  }
  return ferror(f) ? -1 : 0;
}

/* DIPHA persistence diagram: int64 magic 8067171840, int64 type 2, int64
 * count, then per pair int64 dim (-dim-1 for an essential class), double
 * birth, double death. Little-endian, as DIPHA writes it on x86. */
static int write_dipha(FILE *f, const TsDiagram *d) {
  int64_t head[3] = {8067171840LL, 2, (int64_t)d->n};
  fwrite(head, sizeof head[0], 3, f);
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    int64_t dim = isinf(p->death) ? -(int64_t)p->dim - 1 : p->dim;
    double bd[2] = {p->birth, p->death};
    fwrite(&dim, sizeof dim, 1, f);
    fwrite(bd, sizeof bd[0], 2, f);
  }
  return ferror(f) ? -1 : 0;
}

static TsStatus write_diagram(const char *path, OutFormat fmt, const TsDiagram *d, int ndim, TsError *err) {
  FILE *f = path ? fopen(path, "wb") : stdout;
  if (!f) return ts_error_errno(err, errno, "cannot write '%s'", path);
  int bad = fmt == OUT_CSV ? write_csv(f, d, ndim) : fmt == OUT_NPY ? write_npy(f, d, ndim) : write_dipha(f, d);
  if (path) bad |= fclose(f) != 0;
  else bad |= fflush(f) != 0;
  if (bad) return ts_error_errno(err, errno ? errno : EIO, "cannot write '%s'", path ? path : "stdout");
  return TS_OK;
}

/* ---- the work ---------------------------------------------------------- */

typedef struct Job {
  const char *input;
  char output[PATH_MAX];
  TsStatus st;
  TsError err;
  size_t npairs;
} Job;

typedef struct PhRun {
  Job *jobs;
  TsFiltrationKind kind;
  TsCubicalOptions opt;
  OutFormat fmt;
} PhRun;

static void ph_task(void *ctx, size_t begin, size_t end, int worker) {
  (void)worker;
  PhRun *run = ctx;
  for (size_t i = begin; i < end; i++) {
    Job *j = &run->jobs[i];
    Field f;
    TsDiagram d;
    ts_diagram_init(&d);
    ts_error_clear(&j->err);
    j->st = load_field(j->input, run->kind, &f, &j->err);
    if (j->st == TS_OK && !f.empty) {
      j->st = ts_cubical_ph(f.v, f.ndim, f.shape, &run->opt, &d, &j->err);
      if (j->st) ts_error_prefix(&j->err, "'%s'", j->input);
    }
    if (j->st == TS_OK) {
      j->npairs = d.n;
      j->st = write_diagram(j->output[0] ? j->output : NULL, run->fmt, &d, f.ndim, &j->err);
    }
    free(f.v);
    ts_diagram_clear(&d);
  }
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int parse_format(const char *s) {
  for (int i = 0; i < 3; i++)
    if (strcmp(s, format_ext[i]) == 0) return i;
  return -1;
}

int ts_cmd_ph(int argc, char **argv) {
  enum { O_SUPER = 256, O_THRESH, O_MINP, O_FORMAT, O_THREADS };
  static const struct option opts[] = {{"construction", required_argument, 0, 'c'},
                                       {"maxdim", required_argument, 0, 'd'},
                                       {"filtration", required_argument, 0, 'f'},
                                       {"superlevel", no_argument, 0, O_SUPER},
                                       {"threshold", required_argument, 0, O_THRESH},
                                       {"min-persistence", required_argument, 0, O_MINP},
                                       {"format", required_argument, 0, O_FORMAT},
                                       {"output", required_argument, 0, 'o'},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  PhRun run = {.kind = TS_FILT_RAW, .fmt = OUT_CSV};
  ts_cubical_options_default(&run.opt);
  const char *out = NULL;
  int fmt = -1, threads = 0, c, rc;
  long lv;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":c:d:f:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (strcmp(optarg, "v") == 0 || strcmp(optarg, "V") == 0) run.opt.construction = TS_CONSTRUCTION_V;
      else if (strcmp(optarg, "t") == 0 || strcmp(optarg, "T") == 0) run.opt.construction = TS_CONSTRUCTION_T;
      else return ts_cli_usage_error(CMD, "--construction must be v or t, not '%s'", optarg);
      break;
    case 'd':
      if ((rc = ts_cli_int(CMD, "--maxdim", optarg, 0, 3, &lv))) return rc;
      run.opt.maxdim = (int)lv;
      break;
    case 'f': {
      int k = ts_filtration_parse(optarg);
      if (k < 0 || k > TS_FILT_GRADIENT)
        return ts_cli_usage_error(CMD, "unknown filtration '%s' (raw, grey, distance, signed-distance, gradient)",
                                  optarg);
      run.kind = (TsFiltrationKind)k;
      break;
    }
    case O_SUPER: run.opt.superlevel = 1; break;
    case O_THRESH:
      if ((rc = ts_cli_double(CMD, "--threshold", optarg, -INFINITY, INFINITY, &run.opt.threshold))) return rc;
      break;
    case O_MINP:
      if ((rc = ts_cli_double(CMD, "--min-persistence", optarg, 0, INFINITY, &run.opt.min_persistence))) return rc;
      break;
    case O_FORMAT:
      if ((fmt = parse_format(optarg)) < 0) return ts_cli_usage_error(CMD, "--format must be csv, npy or dipha");
      break;
    case 'o': out = optarg; break;
    case O_THREADS:
      if ((rc = ts_cli_threads(CMD, optarg, &threads))) return rc;
      break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option(CMD, optopt, argv[optind - 1]);
    }
  }
  size_t n = (size_t)(argc - optind);
  if (n == 0) return ts_cli_usage_error(CMD, "no input file");
  if (n > 1 && !out) return ts_cli_usage_error(CMD, "several inputs need -o FOLDER");
  if (fmt < 0 && out && n == 1) {
    const char *dot = strrchr(base_name(out), '.');
    fmt = dot ? parse_format(dot + 1) : -1;
    if (fmt < 0 && dot && strcmp(dot, ".bin") == 0) fmt = OUT_DIPHA;
  }
  run.fmt = fmt < 0 ? OUT_CSV : (OutFormat)fmt;
  if (run.fmt != OUT_CSV && !out) return ts_cli_usage_error(CMD, "--format %s needs -o", format_ext[run.fmt]);

  run.jobs = calloc(n, sizeof *run.jobs);
  if (!run.jobs) return ts_cli_failf(CMD, "out of memory");
  if (n > 1 && mkdir(out, 0777) != 0 && errno != EEXIST) {
    free(run.jobs);
    return ts_cli_failf(CMD, "cannot create the folder '%s': %s", out, strerror(errno));
  }
  for (size_t i = 0; i < n; i++) {
    Job *j = &run.jobs[i];
    j->input = argv[optind + (int)i];
    if (n == 1) {
      if (out) snprintf(j->output, sizeof j->output, "%s", out);
      continue;
    }
    const char *b = base_name(j->input), *dot = strrchr(b, '.');
    int stem = dot && dot != b ? (int)(dot - b) : (int)strlen(b);
    if (snprintf(j->output, sizeof j->output, "%s/%.*s.%s", out, stem, b, format_ext[run.fmt]) >=
        (int)sizeof j->output) {
      free(run.jobs);
      return ts_cli_failf(CMD, "output name too long for '%s'", j->input);
    }
    for (size_t k = 0; k < i; k++)
      if (strcmp(run.jobs[k].output, j->output) == 0) {
        int r2 = ts_cli_usage_error(CMD, "'%s' and '%s' would both be written to '%s'", run.jobs[k].input, j->input,
                                    j->output);
        free(run.jobs);
        return r2;
      }
  }

  /* Under MPI: this rank's inputs only (a single input: rank 0's). */
  size_t first = 0;
  {
    int64_t b, e;
    ts_dist_shard((int64_t)n, &b, &e);
    if (n == 1) b = 0, e = ts_dist_rank() == 0;
    first = (size_t)b;
    n = (size_t)(e - b);
  }
  Job *all_jobs = run.jobs;
  run.jobs += first;

#ifdef __GLIBC__
  /* Large blocks straight from mmap: glibc otherwise raises its threshold
   * after freeing the sort's buffers, and then serves the engine's growing
   * tables and the diagram from the heap, where what realloc leaves behind
   * stays resident (about 8 bytes a voxel of peak memory on 3D volumes). */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  TsError err;
  /* Several inputs run one per thread; a single 2D input runs its two
   * sweeps (H0 and H1) on two threads. */
  TsPool *pool = n > 1 || threads != 1 ? ts_pool_new(threads, &err) : NULL;
  if ((n > 1 || threads != 1) && !pool) {
    free(all_jobs);
    return ts_cli_fail(CMD, &err);
  }
  ts_cli_install_stop_handlers();
  TsCliProgress prog;
  if (n > 1) ts_cli_progress_begin(&prog, CMD, (int64_t)n);
  size_t done = 0, chunk = n > 1 ? 4 * (size_t)ts_pool_threads(pool) : 1;
  while (done < n && !ts_cli_stop_requested()) {
    size_t m = n - done < chunk ? n - done : chunk;
    PhRun part = run;
    part.jobs = run.jobs + done;
    if (n == 1) {
      part.opt.pool = pool;
      ph_task(&part, 0, 1, 0);
    } else {
      ts_pool_for(pool, m, 1, ph_task, &part);
    }
    done += m;
    if (n > 1) ts_cli_progress_update(&prog, (int64_t)done);
  }
  if (n > 1) ts_cli_progress_end(&prog, (int64_t)done);
  int status = TS_EXIT_OK;
  for (size_t i = 0; i < done; i++)
    if (run.jobs[i].st) status = ts_cli_fail(CMD, &run.jobs[i].err);
  if (done < n) status = ts_cli_failf(CMD, "stopped after %zu of %zu inputs", done, n);
  ts_pool_free(pool);
  free(all_jobs);
  /* every rank exits with the job's status */
  int64_t worst = status;
  if (ts_dist_allreduce_max_i64(&worst, 1, &err)) return ts_cli_fail(CMD, &err);
  return (int)worst;
}

/* ---- demo step -------------------------------------------------------- */

static void summarise(FILE *out, const char *name, const Field *f, const TsDiagram *d, double ms) {
  size_t h0 = ts_diagram_count(d, 0), h1 = ts_diagram_count(d, 1);
  const TsPair *best = NULL;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    if (p->dim == 1 && (!best || p->death - p->birth > best->death - best->birth)) best = p;
  }
  fprintf(out, "  %-16s %zux%zu  H0 %4zu (%zu essential)  H1 %4zu", name, f->shape[0], f->shape[1], h0,
          ts_diagram_count_essential(d, 0), h1);
  if (best)
    fprintf(out, "  longest H1 [%.1f, %.1f) born (%d,%d) dies (%d,%d)", best->birth, best->death, best->birth_at[0],
            best->birth_at[1], best->death_at[0], best->death_at[1]);
  fprintf(out, "  %.2f ms\n", ms);
}

int ts_demo_homology(TsDemo *demo) {
  char dir[PATH_MAX + 16];
  char *names[8];
  int nn = 0;
  if (demo->images_dir[0]) {
    snprintf(dir, sizeof dir, "%s/train", demo->images_dir);
    for (int i = 0; i < 8; i++) { /* the first few pictures the generate step made */
      char path[PATH_MAX + 64];
      snprintf(path, sizeof path, "%s/t%08d.jpg", dir, i);
      struct stat sb;
      if (stat(path, &sb) == 0 && (names[nn] = strdup(path)) != NULL) nn++;
    }
  }
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  TsError err;
  int rc = 0;
  if (nn == 0) { /* no pictures from an earlier step: a small synthetic field */
    Field f = {.ndim = 2, .shape = {64, 64}};
    f.v = malloc(64 * 64 * sizeof *f.v);
    if (!f.v) return ts_cli_failf("demo", "out of memory");
    for (int y = 0; y < 64; y++)
      for (int x = 0; x < 64; x++) f.v[y * 64 + x] = sin(x * 0.3) * cos(y * 0.25) + 0.3 * sin((x + y) * 0.9);
    TsDiagram d;
    ts_diagram_init(&d);
    double t0 = ts_clock_monotonic();
    if (ts_cubical_ph(f.v, 2, f.shape, &o, &d, &err)) rc = ts_cli_fail("demo", &err) != 0;
    else summarise(demo->out, "synthetic", &f, &d, 1e3 * (ts_clock_monotonic() - t0));
    ts_diagram_clear(&d);
    free(f.v);
    return rc;
  }
  fprintf(demo->out, "  V-construction, signed-distance filtration (Kaji's PH labels):\n");
  for (int i = 0; i < nn && !rc; i++) {
    Field f;
    TsDiagram d;
    ts_diagram_init(&d);
    if (load_field(names[i], TS_FILT_SIGNED_DISTANCE, &f, &err)) {
      rc = ts_cli_fail("demo", &err) != 0;
      break;
    }
    double t0 = ts_clock_monotonic();
    if (!f.empty && ts_cubical_ph(f.v, f.ndim, f.shape, &o, &d, &err)) rc = ts_cli_fail("demo", &err) != 0;
    else summarise(demo->out, base_name(names[i]), &f, &d, 1e3 * (ts_clock_monotonic() - t0));
    if (i == 0 && !rc) { /* keep one diagram as a file, as `toposcope ph -o` writes it */
      char path[PATH_MAX + 32];
      snprintf(path, sizeof path, "%s/homology-%s.csv", demo->workdir, "t00000000");
      if (write_diagram(path, OUT_CSV, &d, 2, &err)) rc = ts_cli_fail("demo", &err) != 0;
      else fprintf(demo->out, "  wrote %s\n", path);
    }
    ts_diagram_clear(&d);
    free(f.v);
  }
  for (int i = 0; i < nn; i++) free(names[i]);
  return rc;
}
