/* toposcope generate — Kaji's synthetic FFT images (see core/image/generate.h) as a
 * dataset folder: DIR/train/t%08d.EXT, DIR/val/v%08d.EXT, DIR/manifest.json.
 *
 * Work goes in batches over the thread pool, one TsGenerator per worker.
 * The manifest (how many of each split are done) is rewritten after every
 * batch, so Ctrl-C leaves whole files and an honest manifest (see
 * save_one); --resume continues from it. Image i of a split depends only on
 * (seed, split, i), so the bytes do not depend on --threads or on where a
 * run was interrupted. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "image/codec.h"
#include "image/generate.h"
#include "run/dist.h"
#include "ts-config.h"

#define CMD "generate"

typedef struct {
  TsGenerateParams p;
  int64_t n_train, n_val;
  TsImageFormat format;
  int quality;
} GenSpec;

static const char *format_ext(TsImageFormat f) {
  return f == TS_FORMAT_PNG ? "png" : f == TS_FORMAT_NPY ? "npy" : "jpg";
}

static void help(void) {
  printf("Usage: toposcope generate -o DIR [OPTIONS]\n"
         "Makes synthetic FFT images (Kaji's random_image.py, reproducible by --seed):\n"
         "DIR/train/t%%08d.jpg, DIR/val/v%%08d.jpg and DIR/manifest.json.\n\n"
         "Options:\n"
         "  -o, --output DIR          dataset folder (required)\n"
         "  -n, --count N             training images (default 400000)\n"
         "      --val N               validation images (default 1000)\n"
         "      --size S              images are S x S pixels (default 256)\n"
         "      --alpha-range A B     alpha ~ U(A, B) per channel (default 1 1)\n"
         "      --beta-range A B      beta ~ U(A, B) per channel (default 1 2)\n"
         "      --prob-binary P       probability a channel is Otsu-binarised (default 0.5)\n"
         "      --prob-colour P       probability an image stays RGB, else grey (default 0.5)\n"
         "      --spectrum NAME       kaji (the published weight, default) or radial (1/|f|^beta)\n"
         "      --seed S              random seed (default 0)\n"
         "      --format FMT          jpg (default), png or npy\n"
         "      --quality Q           JPEG quality 1..100 (default 75, as PIL)\n"
         "      --resume              continue an interrupted run in DIR (same parameters)\n"
         "      --no-store            do not record the run in the store\n"
         "Under mpirun/srun the images are shared out by index; the files are the same\n"
         "bytes as one process makes; rank 0 writes the manifest and the store.\n");
  ts_cli_help_common(stdout, 1);
}

/* ---- manifest --------------------------------------------------------- */

static char *manifest_json(const GenSpec *s, int64_t train_done, int64_t val_done, int64_t run_id) {
  TsJson j;
  ts_json_init(&j);
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->p.seed);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "generator", "toposcope generate");
  ts_json_kv_string(&j, "version", TS_VERSION);
  ts_json_kv_int(&j, "manifest_version", 1);
  ts_json_kv_int(&j, "size", s->p.size);
  ts_json_kv_number(&j, "alpha_min", s->p.alpha_min);
  ts_json_kv_number(&j, "alpha_max", s->p.alpha_max);
  ts_json_kv_number(&j, "beta_min", s->p.beta_min);
  ts_json_kv_number(&j, "beta_max", s->p.beta_max);
  ts_json_kv_number(&j, "prob_binary", s->p.prob_binary);
  ts_json_kv_number(&j, "prob_colour", s->p.prob_colour);
  ts_json_kv_string(&j, "spectrum", ts_spectrum_name(s->p.spectrum));
  ts_json_kv_string(&j, "seed", seed);
  ts_json_kv_string(&j, "format", format_ext(s->format));
  ts_json_kv_int(&j, "quality", s->quality);
  ts_json_kv_int(&j, "n_train", s->n_train);
  ts_json_kv_int(&j, "n_val", s->n_val);
  ts_json_kv_string(&j, "train_pattern", s->format == TS_FORMAT_PNG   ? "train/t%08d.png"
                                         : s->format == TS_FORMAT_NPY ? "train/t%08d.npy"
                                                                      : "train/t%08d.jpg");
  ts_json_kv_string(&j, "val_pattern", s->format == TS_FORMAT_PNG   ? "val/v%08d.png"
                                       : s->format == TS_FORMAT_NPY ? "val/v%08d.npy"
                                                                    : "val/v%08d.jpg");
  ts_json_kv_string(&j, "streams", "image i of train uses rng stream (0 << 40) + i, of val (1 << 40) + i");
  /* What the pixels are a function of besides the parameters: a run begun
   * with another arithmetic must not be resumed with this one (1: double
   * precision, xoshiro256** noise; 2: float32, 16-lane xoshiro128** noise). */
  ts_json_kv_int(&j, "pixel_arithmetic", 2);
  ts_json_kv_int(&j, "train_done", train_done);
  ts_json_kv_int(&j, "val_done", val_done);
  ts_json_kv_bool(&j, "complete", train_done == s->n_train && val_done == s->n_val);
  ts_json_kv_int(&j, "run_id", run_id);
  ts_json_object_end(&j);
  char *compact = ts_json_steal(&j);
  if (!compact) return NULL;
  char *pretty = ts_json_pretty(compact);
  free(compact);
  return pretty;
}

static TsStatus write_manifest(const char *dir, const GenSpec *s, int64_t td, int64_t vd, int64_t run_id,
                               TsError *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  char *text = manifest_json(s, td, vd, run_id);
  if (!text) return ts_error_set(err, TS_ERR_NOMEM, "cannot write '%s': out of memory", path);
  size_t len = strlen(text);
  TsStatus st = ts_file_write_atomic(path, text, len, err);
  free(text);
  return st;
}

/* Reads the manifest of a resumed run; refuses if any parameter differs. */
static TsStatus check_manifest(const char *dir, const GenSpec *s, int64_t *td, int64_t *vd, int64_t *run_id,
                               TsError *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  uint8_t *data;
  size_t n;
  TsStatus st = ts_file_read(path, 1 << 20, &data, &n, err);
  if (st) return st;
  char *text = realloc(data, n + 1);
  if (!text) {
    free(data);
    return ts_error_set(err, TS_ERR_NOMEM, "out of memory");
  }
  text[n] = '\0';
  /* Compare against the manifest we would write: every parameter member. */
  char *mine = manifest_json(s, 0, 0, 0);
  static const char *const keys[] = {"size",        "alpha_min", "alpha_max", "beta_min", "beta_max",
                                     "prob_binary", "prob_colour", "spectrum", "seed",     "format",
                                     "quality",     "n_train",   "n_val",    "pixel_arithmetic"};
  st = TS_OK;
  if (!mine) st = ts_error_set(err, TS_ERR_NOMEM, "out of memory");
  for (size_t k = 0; k < sizeof keys / sizeof *keys && !st; k++) {
    const char *a, *b;
    size_t la, lb;
    if (ts_json_get_raw(text, keys[k], &a, &la, NULL) != TS_OK)
      st = ts_error_set(err, TS_ERR_FORMAT, "cannot resume from '%s': it has no '%s'", path, keys[k]);
    else if (ts_json_get_raw(mine, keys[k], &b, &lb, NULL) != TS_OK)
      st = ts_error_set(err, TS_ERR_INTERNAL, "manifest lacks '%s'", keys[k]);
    else if (la != lb || memcmp(a, b, la) != 0)
      st = ts_error_set(err, TS_ERR_INVALID, "cannot resume '%s': %s was %.*s, now %.*s (parameters must not change)",
                        dir, keys[k], (int)la, a, (int)lb, b);
  }
  if (!st && (ts_json_get_int(text, "train_done", td, err) || ts_json_get_int(text, "val_done", vd, err)))
    st = TS_ERR_FORMAT;
  if (!st && ts_json_get_int(text, "run_id", run_id, NULL) != TS_OK) *run_id = 0;
  if (!st && (*td < 0 || *td > s->n_train || *vd < 0 || *vd > s->n_val))
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot resume from '%s': done counts out of range", path);
  free(mine);
  free(text);
  return st;
}

/* ---- parallel generation ---------------------------------------------- */

typedef struct {
  TsGenerator **gens;
  TsImage *imgs, *greys; /* per worker: colour and grey pictures */
  const GenSpec *spec;
  const char *dir;
  int split;        /* 0 train, 1 val */
  int dirfd;        /* the split's folder, open */
  int64_t first;    /* index of the batch's first image */
  pthread_mutex_t lock;
  int failed;
  TsError err;
  /* statistics, per worker, summed afterwards */
  int64_t *colour, *channels_binarised;
} Batch;

/* Each file is written in place, under its own name in the split's folder
 * held open (no temporary name and rename: a rename and a path walk were
 * ~4% of the CPU time per 128^2 picture on tmpfs). Whole files on Ctrl-C
 * still hold: the first Ctrl-C lets the batch in hand finish, the second
 * (ts_cli_stop_gently) lets each worker finish the picture in hand and
 * drops the batch uncounted; only a third Ctrl-C or a kill can cut a file
 * short, and that file lies past the manifest's count, so --resume rewrites
 * it (and the decoders reject a truncated file rather than read it). */
static TsStatus save_one(const Batch *b, const TsImage *img, int64_t index, TsError *err) {
  char name[64], path[PATH_MAX + 64];
  snprintf(name, sizeof name, "%c%08lld.%s", b->split ? 'v' : 't', (long long)index, format_ext(b->spec->format));
  snprintf(path, sizeof path, "%s/%s/%s", b->dir, b->split ? "val" : "train", name);
  uint8_t *buf;
  size_t n;
  TsStatus s = ts_image_encode(img, b->spec->format, b->spec->quality, &buf, &n, err);
  if (s) {
    ts_error_prefix(err, "cannot write '%s'", path);
    return s;
  }
  s = ts_file_write_at(b->dirfd, name, path, buf, n, err);
  free(buf);
  return s;
}

static void batch_task(void *ctx, size_t begin, size_t end, int worker) {
  Batch *b = ctx;
  for (size_t k = begin; k < end; k++) {
    if (b->failed || ts_cli_stop_now()) return; /* a second Ctrl-C: the batch is dropped */
    int64_t index = b->first + (int64_t)k;
    TsGenerateInfo info;
    TsError err = {0};
    /* grey pictures come with one channel, as PIL's 'L' mode saves them */
    TsImage *img;
    TsStatus s = ts_generator_make_stored(b->gens[worker], (uint64_t)b->split, (uint64_t)index, &b->imgs[worker],
                                          &b->greys[worker], &img, &info, &err);
    if (!s) s = save_one(b, img, index, &err);
    if (s) {
      pthread_mutex_lock(&b->lock);
      if (!b->failed) b->err = err;
      b->failed = 1;
      pthread_mutex_unlock(&b->lock);
      return;
    }
    b->colour[worker] += info.colour;
    for (int c = 0; c < 3; c++) b->channels_binarised[worker] += info.binarised[c] != 0;
  }
}

typedef struct {
  const char *dir;
  GenSpec spec;
  int threads, resume, use_store, quiet;
  const char *store_path;
  TsStore *store; /* borrowed when set by the demo */
  FILE *out;
} GenRun;

static double peak_mib(void) { return (double)ts_peak_rss_bytes() / 1048576.0; }

static int mkdir_p1(const char *path) { return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1; }

/* What rank 0 (or the only process) does before any image: the folders,
 * the manifest (checked when resuming), the store's run. Returns an exit
 * code (errors printed); fills done, run_id and the store. */
static int prepare(GenRun *r, int64_t done[2], int64_t *run_id, TsStore **store_out, int *own_store) {
  TsError err = {0};
  const GenSpec *spec = &r->spec;
  char sub[PATH_MAX];
  if (mkdir_p1(r->dir) != 0) return ts_cli_failf(CMD, "cannot create '%s': %s", r->dir, strerror(errno));
  snprintf(sub, sizeof sub, "%s/manifest.json", r->dir);
  if (r->resume) {
    if (access(sub, F_OK) != 0)
      return ts_cli_failf(CMD, "cannot resume: '%s' has no manifest.json", r->dir);
    if (check_manifest(r->dir, spec, &done[0], &done[1], run_id, &err)) return ts_cli_fail(CMD, &err);
  } else if (access(sub, F_OK) == 0) {
    return ts_cli_failf(CMD, "'%s' already holds a dataset: use --resume to continue it, or another folder",
                        r->dir);
  }
  snprintf(sub, sizeof sub, "%s/train", r->dir);
  if (spec->n_train > 0 && mkdir_p1(sub) != 0) return ts_cli_failf(CMD, "cannot create '%s': %s", sub, strerror(errno));
  snprintf(sub, sizeof sub, "%s/val", r->dir);
  if (spec->n_val > 0 && mkdir_p1(sub) != 0) return ts_cli_failf(CMD, "cannot create '%s': %s", sub, strerror(errno));

  TsStore *store = r->store;
  *own_store = 0;
  if (!store && r->use_store) {
    if (ts_cli_open_store(CMD, r->store_path, TS_STORE_WRITE, &store)) return TS_EXIT_FAILURE;
    *own_store = 1;
  }
  if (store) {
    char *params = manifest_json(spec, done[0], done[1], 0);
    if (params && ts_dist_size() > 1) { /* the run's parameters record the ranks */
      char *close = strrchr(params, '}');
      char *more = close ? malloc(strlen(params) + 32) : NULL;
      if (more) {
        *close = '\0';
        sprintf(more, "%s, \"ranks\": %d}", params, ts_dist_size());
        free(params);
        params = more;
      }
    }
    int reopened = *run_id > 0 && ts_store_run_reopen(store, *run_id, NULL) == TS_OK;
    if (!reopened) {
      char abs[PATH_MAX];
      const char *name = realpath(r->dir, abs) ? abs : r->dir;
      if (ts_store_run_begin(store, "generate", name, params, run_id, &err) ||
          ts_store_artifact(store, *run_id, "dataset", name, &err)) {
        free(params);
        if (*own_store) ts_store_close(store);
        return ts_cli_fail(CMD, &err);
      }
    }
    free(params);
  }
  if (write_manifest(r->dir, spec, done[0], done[1], *run_id, &err)) {
    if (store) {
      ts_store_run_end(store, *run_id, TS_RUN_FAILED, err.message, NULL);
      if (*own_store) ts_store_close(store);
    }
    return ts_cli_fail(CMD, &err);
  }
  *store_out = store;
  return TS_EXIT_OK;
}

/* Runs the whole job; returns an exit code (errors already printed).
 * Under MPI every batch of images is shared out by index (run/dist.h):
 * each rank writes its own files, rank 0 alone the manifest and the store,
 * after all ranks have finished the batch, so the manifest stays honest. */
static int run_generate(GenRun *r) {
  TsError err = {0};
  const GenSpec *spec = &r->spec;
  const int rank = ts_dist_rank();
  char sub[PATH_MAX];
  int64_t done[2] = {0, 0}, run_id = 0;
  TsStore *store = NULL;
  int own_store = 0;
  int64_t head[4] = {0, 0, 0, 0}; /* exit code of the preparation, done[2], run id */
  if (rank == 0) {
    head[0] = prepare(r, done, &run_id, &store, &own_store);
    head[1] = done[0], head[2] = done[1], head[3] = run_id;
  }
  if (ts_dist_bcast(head, sizeof head, 0, &err)) return ts_cli_fail(CMD, &err);
  if (head[0]) return rank == 0 ? (int)head[0] : TS_EXIT_FAILURE;
  done[0] = head[1], done[1] = head[2], run_id = head[3];

  int threads = r->threads > 0 ? r->threads : ts_cpu_count();
  TsPool *pool = ts_pool_new(threads, &err);
  if (!pool) goto fail;
  threads = ts_pool_threads(pool);
  TsGenerator **gens = calloc((size_t)threads, sizeof *gens);
  TsImage *imgs = calloc((size_t)threads, sizeof *imgs), *greys = calloc((size_t)threads, sizeof *greys);
  int64_t *colour = calloc((size_t)threads, sizeof *colour), *bin = calloc((size_t)threads, sizeof *bin);
  int status = TS_EXIT_OK, stopped = 0;
  if (!gens || !imgs || !greys || !colour || !bin) {
    ts_error_set(&err, TS_ERR_NOMEM, "out of memory");
    status = TS_EXIT_FAILURE;
  }
  for (int t = 0; t < threads && status == TS_EXIT_OK; t++)
    if (ts_generator_new(&spec->p, &gens[t], &err)) status = TS_EXIT_FAILURE;

  int64_t total = spec->n_train + spec->n_val, made = 0;
  TsCliProgress prog;
  if (status == TS_EXIT_OK && !r->quiet && rank == 0) ts_cli_progress_begin(&prog, "generate", total);
  double t0 = ts_clock_monotonic();
  /* the same batch on every rank: the largest pool's */
  int64_t batch_size = (int64_t)threads * 16;
  if (ts_dist_allreduce_max_i64(&batch_size, 1, &err)) status = TS_EXIT_FAILURE;
  batch_size *= ts_dist_size();
  int lost = 0; /* a collective failed: the other ranks are gone, write nothing more */
  for (int split = 0; split < 2 && status == TS_EXIT_OK && !stopped; split++) {
    int64_t n = split ? spec->n_val : spec->n_train;
    int dirfd = -1;
    if (done[split] < n) {
      snprintf(sub, sizeof sub, "%s/%s", r->dir, split ? "val" : "train");
      dirfd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0) {
        ts_error_errno(&err, errno, "cannot open '%s'", sub);
        status = TS_EXIT_FAILURE;
        break;
      }
    }
    while (done[split] < n) {
      int64_t ask = ts_cli_stop_requested();
      if (ts_dist_allreduce_max_i64(&ask, 1, &err)) {
        status = TS_EXIT_FAILURE, lost = 1;
        break;
      }
      if (ask) {
        stopped = 1;
        break;
      }
      int64_t count = n - done[split] < batch_size ? n - done[split] : batch_size, mine0, mine1;
      ts_dist_shard(count, &mine0, &mine1);
      Batch b = {.gens = gens, .imgs = imgs, .greys = greys, .spec = spec, .dir = r->dir, .split = split,
                 .dirfd = dirfd, .first = done[split] + mine0, .colour = colour, .channels_binarised = bin};
      pthread_mutex_init(&b.lock, NULL);
      ts_pool_for(pool, (size_t)(mine1 - mine0), 1, batch_task, &b);
      pthread_mutex_destroy(&b.lock);
      int64_t flags[2] = {b.failed, ts_cli_stop_now()};
      if (b.failed) err = b.err;
      TsError cerr = {0};
      if (ts_dist_allreduce_max_i64(flags, 2, &cerr)) {
        if (!b.failed) err = cerr;
        status = TS_EXIT_FAILURE, lost = 1;
        break;
      }
      if (flags[0]) {
        if (!b.failed) ts_error_set(&err, TS_ERR_IO, "another rank failed (its error is above)");
        status = TS_EXIT_FAILURE;
        break;
      }
      if (flags[1]) { /* perhaps cut short: not counted (its files are whole) */
        stopped = 1;
        break;
      }
      done[split] += count;
      made += count;
      if (rank == 0 && write_manifest(r->dir, spec, done[0], done[1], run_id, &err)) {
        status = TS_EXIT_FAILURE;
        break;
      }
      if (store) ts_store_progress(store, run_id, done[0] + done[1], total, NULL);
      if (!r->quiet && rank == 0) ts_cli_progress_update(&prog, done[0] + done[1]);
    }
    if (dirfd >= 0) close(dirfd);
  }
  double dt = ts_clock_monotonic() - t0;
  if (!r->quiet && status == TS_EXIT_OK && rank == 0) ts_cli_progress_end(&prog, done[0] + done[1]);
  double counts[2] = {0, 0}; /* colour pictures, binarised channels: over all ranks */
  for (int t = 0; t < threads && colour && bin; t++) counts[0] += (double)colour[t], counts[1] += (double)bin[t];
  if (!lost && ts_dist_allreduce_f64(counts, 2, &err)) status = TS_EXIT_FAILURE;
  int64_t ncol = (int64_t)counts[0], nbin = (int64_t)counts[1];
  for (int t = 0; t < threads && gens; t++) ts_generator_free(gens[t]);
  for (int t = 0; t < threads && imgs; t++) ts_image_clear(&imgs[t]);
  for (int t = 0; t < threads && greys; t++) ts_image_clear(&greys[t]);
  free(gens), free(imgs), free(greys), free(colour), free(bin);
  ts_pool_free(pool);

  if (store) {
    char msg[TS_ERROR_MSG_MAX + 64];
    if (status != TS_EXIT_OK) snprintf(msg, sizeof msg, "%s", err.message);
    else snprintf(msg, sizeof msg, "%lld of %lld images", (long long)(done[0] + done[1]), (long long)total);
    ts_store_run_end(store, run_id,
                     status != TS_EXIT_OK ? TS_RUN_FAILED : stopped ? TS_RUN_STOPPED : TS_RUN_FINISHED, msg, NULL);
    if (own_store) ts_store_close(store);
  }
  if (status != TS_EXIT_OK) return ts_cli_fail(CMD, &err);
  if (rank != 0) return stopped ? 130 : TS_EXIT_OK;
  FILE *o = r->out;
  char ranks[32] = "";
  if (ts_dist_size() > 1) snprintf(ranks, sizeof ranks, " on each of %d ranks", ts_dist_size());
  fprintf(o, "%s %lld images in %.2f s (%.1f images/s, %d threads%s, peak memory %.0f MiB) into %s\n",
          stopped ? "Stopped after" : "Made", (long long)made, dt, dt > 0 ? made / dt : 0.0, threads, ranks,
          peak_mib(), r->dir);
  if (made > 0)
    fprintf(o, "  colour %.1f%% (expected %.1f%%), binarised channels %.1f%% (expected %.1f%%)\n",
            100.0 * ncol / made, 100 * spec->p.prob_colour, 100.0 * nbin / (3.0 * made), 100 * spec->p.prob_binary);
  if (stopped)
    fprintf(o, "  %lld of %lld done; continue with: toposcope generate --resume -o %s ...\n",
            (long long)(done[0] + done[1]), (long long)total, r->dir);
  return stopped ? 130 : TS_EXIT_OK; /* 128 + SIGINT, as shells report it */

fail:
  if (store) {
    ts_store_run_end(store, run_id, TS_RUN_FAILED, err.message, NULL);
    if (own_store) ts_store_close(store);
  }
  return ts_cli_fail(CMD, &err);
}

/* Reads "A B" for a two-valued option: optarg and the next argument. */
static int two_doubles(int argc, char **argv, const char *opt, double lo, double hi, double *a, double *b) {
  int rc = ts_cli_double(CMD, opt, optarg, lo, hi, a);
  if (rc) return rc;
  if (optind >= argc) return ts_cli_usage_error(CMD, "%s expects two numbers", opt);
  rc = ts_cli_double(CMD, opt, argv[optind], lo, hi, b);
  if (rc) return rc;
  optind++;
  if (*a > *b) return ts_cli_usage_error(CMD, "%s: the first number must not exceed the second", opt);
  return 0;
}

enum {
  OPT_VAL = 256, OPT_SIZE, OPT_ALPHA, OPT_BETA, OPT_PB, OPT_PC, OPT_SPECTRUM, OPT_SEED, OPT_FORMAT, OPT_QUALITY,
  OPT_RESUME, OPT_NO_STORE, OPT_STORE, OPT_THREADS
};

int ts_cmd_generate(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"count", required_argument, 0, 'n'},
                                       {"val", required_argument, 0, OPT_VAL},
                                       {"size", required_argument, 0, OPT_SIZE},
                                       {"alpha-range", required_argument, 0, OPT_ALPHA},
                                       {"beta-range", required_argument, 0, OPT_BETA},
                                       {"prob-binary", required_argument, 0, OPT_PB},
                                       {"prob-colour", required_argument, 0, OPT_PC},
                                       {"prob-color", required_argument, 0, OPT_PC},
                                       {"spectrum", required_argument, 0, OPT_SPECTRUM},
                                       {"seed", required_argument, 0, OPT_SEED},
                                       {"format", required_argument, 0, OPT_FORMAT},
                                       {"quality", required_argument, 0, OPT_QUALITY},
                                       {"resume", no_argument, 0, OPT_RESUME},
                                       {"no-store", no_argument, 0, OPT_NO_STORE},
                                       {"store", required_argument, 0, OPT_STORE},
                                       {"threads", required_argument, 0, OPT_THREADS},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  GenRun r = {.threads = 0, .use_store = 1, .out = stdout};
  GenSpec *s = &r.spec;
  ts_generate_params_default(&s->p);
  s->n_train = 400000;
  s->n_val = 1000;
  s->format = TS_FORMAT_JPEG;
  s->quality = 75;
  long v;
  int c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': r.dir = optarg; break;
    case 'n':
      if ((rc = ts_cli_int(CMD, "-n", optarg, 0, 100000000, &v))) return rc;
      s->n_train = v;
      break;
    case OPT_VAL:
      if ((rc = ts_cli_int(CMD, "--val", optarg, 0, 100000000, &v))) return rc;
      s->n_val = v;
      break;
    case OPT_SIZE:
      if ((rc = ts_cli_int(CMD, "--size", optarg, 2, 16384, &v))) return rc;
      s->p.size = (int)v;
      break;
    case OPT_ALPHA:
      if ((rc = two_doubles(argc, argv, "--alpha-range", 0, 1e6, &s->p.alpha_min, &s->p.alpha_max))) return rc;
      break;
    case OPT_BETA:
      if ((rc = two_doubles(argc, argv, "--beta-range", -16, 16, &s->p.beta_min, &s->p.beta_max))) return rc;
      break;
    case OPT_PB:
      if ((rc = ts_cli_double(CMD, "--prob-binary", optarg, 0, 1, &s->p.prob_binary))) return rc;
      break;
    case OPT_PC:
      if ((rc = ts_cli_double(CMD, "--prob-colour", optarg, 0, 1, &s->p.prob_colour))) return rc;
      break;
    case OPT_SPECTRUM: {
      int sp = ts_spectrum_parse(optarg);
      if (sp < 0) return ts_cli_usage_error(CMD, "--spectrum must be kaji or radial, not '%s'", optarg);
      s->p.spectrum = (TsSpectrum)sp;
      break;
    }
    case OPT_SEED:
      if ((rc = ts_cli_u64(CMD, "--seed", optarg, &s->p.seed))) return rc;
      break;
    case OPT_FORMAT:
      if (!strcmp(optarg, "jpg") || !strcmp(optarg, "jpeg")) s->format = TS_FORMAT_JPEG;
      else if (!strcmp(optarg, "png")) s->format = TS_FORMAT_PNG;
      else if (!strcmp(optarg, "npy")) s->format = TS_FORMAT_NPY;
      else return ts_cli_usage_error(CMD, "--format must be jpg, png or npy, not '%s'", optarg);
      break;
    case OPT_QUALITY:
      if ((rc = ts_cli_int(CMD, "--quality", optarg, 1, 100, &v))) return rc;
      s->quality = (int)v;
      break;
    case OPT_RESUME: r.resume = 1; break;
    case OPT_NO_STORE: r.use_store = 0; break;
    case OPT_STORE: r.store_path = optarg; break;
    case OPT_THREADS:
      if ((rc = ts_cli_threads(CMD, optarg, &r.threads))) return rc;
      break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option(CMD, optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
  if (!r.dir) return ts_cli_usage_error(CMD, "an output folder is required (-o DIR)");
  TsError err = {0};
  if (ts_generate_params_check(&s->p, &err)) return ts_cli_usage_error(CMD, "%s", err.message);
  ts_cli_install_stop_handlers();
  ts_cli_stop_gently(); /* see save_one */
  return run_generate(&r);
}

/* ---- demo step -------------------------------------------------------- */

int ts_demo_generate(TsDemo *demo) {
  GenRun r = {.threads = demo->threads, .use_store = demo->store != NULL || demo->store_path != NULL,
              .store_path = demo->store_path, .store = demo->store, .quiet = 1, .out = demo->out};
  ts_generate_params_default(&r.spec.p);
  r.spec.p.size = 64;
  r.spec.p.seed = 1;
  r.spec.n_train = 24;
  r.spec.n_val = 8;
  r.spec.format = TS_FORMAT_JPEG;
  r.spec.quality = 90;
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/images", demo->workdir) >= (int)sizeof dir)
    return ts_cli_failf("demo", "work folder name too long");
  r.dir = dir;
  int rc = run_generate(&r);
  if (rc) return 1;
  snprintf(demo->images_dir, sizeof demo->images_dir, "%s", dir);
  /* Statistics of the first few pictures, read back from disk. */
  fprintf(demo->out, "  %-22s %5s %7s %7s %6s\n", "file", "ch", "mean", "std", "black%");
  for (int i = 0; i < 4; i++) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/train/t%08d.jpg", dir, i);
    TsImage img = {0};
    TsError err = {0};
    if (ts_image_load(path, &img, &err)) return ts_cli_fail("demo", &err) != 0;
    size_t n = (size_t)img.width * img.height * img.channels, black = 0;
    double sum = 0, sq = 0;
    for (size_t k = 0; k < n; k++) {
      sum += img.pixels[k];
      sq += (double)img.pixels[k] * img.pixels[k];
      black += img.pixels[k] < 16;
    }
    double mean = sum / n;
    fprintf(demo->out, "  %-22s %5d %7.1f %7.1f %6.1f\n", strrchr(path, '/') + 1, img.channels, mean,
            sqrt(fmax(0, sq / n - mean * mean)), 100.0 * black / n);
    ts_image_clear(&img);
  }
  return 0;
}
