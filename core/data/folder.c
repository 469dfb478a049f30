/* Image folders: DIR/<class>/<image>, classes in sorted name order, images
 * decoded by core/image (JPEG, PNG, PGM/PPM, .npy), brought to one channel
 * count and size, stored CHW. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strlist.h"
#include "data/dataset.h"
#include "image/filtration.h"
#include "image/image.h"
#include "ph/label-cache.h"

/* Sorted entries of dir: subfolders (want_dirs) or picture files. */
static TsStatus list_dir(const char *dir, int want_dirs, TsStrList *out, TsError *err) {
  TsStrList all = {0};
  TsStatus st = ts_list_dir(dir, &all, err);
  memset(out, 0, sizeof *out);
  char path[4400];
  for (size_t i = 0; i < all.n && !st; i++) {
    if (snprintf(path, sizeof path, "%s/%s", dir, all.v[i]) >= (int)sizeof path) continue;
    struct stat sb;
    if (stat(path, &sb) != 0) continue;
    int ok;
    if (want_dirs) {
      ok = S_ISDIR(sb.st_mode);
    } else {
      TsImageFormat f = ts_image_format_from_name(all.v[i]);
      ok = S_ISREG(sb.st_mode) && (f == TS_FORMAT_JPEG || f == TS_FORMAT_PNG || f == TS_FORMAT_PNM || f == TS_FORMAT_NPY);
    }
    if (ok && ts_strlist_add(out, all.v[i]) != 0) {
      ts_strlist_clear(out);
      st = ts_error_set(err, TS_ERR_NOMEM, "listing '%s'", dir);
    }
  }
  ts_strlist_clear(&all);
  return st;
}

/* Converts img to `channels` (1 or 3) into CHW bytes at dst (already sized). */
void ts_dataset_image_to_chw(const TsImage *img, int channels, uint8_t *dst) {
  size_t hw = (size_t)img->width * (size_t)img->height;
  for (size_t p = 0; p < hw; p++) {
    const uint8_t *s = img->pixels + p * (size_t)img->channels;
    if (channels == 1) {
      dst[p] = img->channels < 3 ? s[0]
                                 : (uint8_t)((299 * (unsigned)s[0] + 587 * (unsigned)s[1] + 114 * (unsigned)s[2] + 500) / 1000);
    } else {
      for (int k = 0; k < 3; k++) dst[(size_t)k * hw + p] = img->channels < 3 ? s[0] : s[k];
    }
  }
}

/* ---- streaming from disk --------------------------------------------------- */

/* A set too large for memory: its pictures' paths, decoded (and resized,
 * and brought to ch channels) by the loader thread that needs them. */
typedef struct FileStream {
  char **paths;
  size_t n;
  int ch, h, w;
} FileStream;

static void file_stream_free(void *user) {
  FileStream *f = user;
  for (size_t i = 0; i < f->n; i++) free(f->paths[i]);
  free(f->paths);
  free(f);
}

static TsStatus file_stream_fetch(void *user, void *worker, int64_t epoch, int64_t index, uint8_t *pixels,
                                  float *target, TsError *err) {
  (void)worker, (void)epoch, (void)target;
  FileStream *f = user;
  TsImage img = {0}, rs = {0};
  TsStatus st = ts_image_load(f->paths[index], &img, err);
  const TsImage *use = &img;
  if (!st && (img.width != f->w || img.height != f->h)) {
    st = ts_image_resize(&img, f->w, f->h, 0, &rs, err);
    use = &rs;
  }
  if (!st) ts_dataset_image_to_chw(use, f->ch, pixels);
  ts_image_clear(&img);
  ts_image_clear(&rs);
  return st;
}

/* Makes ds a streamed set of the n pictures at paths (taken over), each
 * brought to ch x h x w; labels (and targets) are the caller's. Every file
 * must exist now: a set that lost pictures fails here, not mid-training. */
static TsStatus make_file_stream(TsDataset *ds, char **paths, size_t n, int ch, int h, int w, TsError *err) {
  FileStream *f = calloc(1, sizeof *f);
  TsSampleStream *st = calloc(1, sizeof *st);
  if (!f || !st) {
    free(f);
    free(st);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return ts_error_set(err, TS_ERR_NOMEM, "file stream");
  }
  *f = (FileStream){paths, n, ch, h, w};
  *st = (TsSampleStream){.user = f, .fetch = file_stream_fetch, .free = file_stream_free};
  ds->stream = st;
  ds->count = (int64_t)n;
  ds->channels = ch;
  ds->height = h;
  ds->width = w;
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode))
      return ts_error_set(err, TS_ERR_IO, "cannot open '%s': %s", paths[i], strerror(errno ? errno : ENOENT));
  }
  return TS_OK;
}

/* Whether n pictures of ch x h x w bytes exceed the in-memory limit. */
static int too_big(const TsDatasetOptions *opts, size_t n, int ch, int h, int w) {
  if (!opts || opts->max_bytes <= 0) return 0;
  return (double)n * ch * h * w > (double)opts->max_bytes;
}

TsStatus ts_dataset_load_folder(const char *dir, const TsDatasetOptions *opts, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsStrList classes;
  TsStatus st = list_dir(dir, 1, &classes, err);
  if (st) return st;
  if (classes.n == 0) {
    ts_strlist_clear(&classes);
    return ts_error_set(err, TS_ERR_INVALID, "'%s' has no class subfolders (expected DIR/<class>/<image>)", dir);
  }
  size_t nclass = classes.n;
  TsStrList *files = calloc(nclass, sizeof *files);
  if (!files) {
    ts_strlist_clear(&classes);
    return ts_error_set(err, TS_ERR_NOMEM, "listing '%s'", dir);
  }
  size_t total = 0;
  char path[8800];
  for (size_t c = 0; c < classes.n && !st; c++) {
    snprintf(path, sizeof path, "%s/%s", dir, classes.v[c]);
    st = list_dir(path, 0, &files[c], err);
    total += files[c].n;
  }
  if (!st && total == 0) st = ts_error_set(err, TS_ERR_INVALID, "'%s': no pictures in its class folders", dir);
  int h = opts ? opts->height : 0, w = opts ? opts->width : 0, ch = opts ? opts->channels : 0;
  if (!st && (ch < 0 || ch == 2 || ch > 3)) st = ts_error_set(err, TS_ERR_INVALID, "%d channels (1 or 3)", ch);
  size_t at = 0;
  for (size_t c = 0; c < classes.n && !st && !ds->stream; c++) {
    for (size_t i = 0; i < files[c].n && !st && !ds->stream; i++) {
      snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[c], files[c].v[i]);
      TsImage img = {0}, rs = {0};
      if ((st = ts_image_load(path, &img, err))) break;
      if (!ds->pixels) {
        /* The first picture fixes what the others are brought to. */
        if (!h) h = img.height;
        if (!w) w = img.width;
        if (!ch) ch = img.channels >= 3 ? 3 : 1;
        if (too_big(opts, total, ch, h, w)) {
          ts_image_clear(&img);
          char **paths = ts_calloc_array(total, sizeof(char *), "file names", err);
          ds->labels = ts_calloc_array(total, sizeof(int32_t), "dataset labels", err);
          ds->num_classes = (int)classes.n;
          if (!paths || !ds->labels) {
            free(paths);
            st = TS_ERR_NOMEM;
            break;
          }
          size_t k = 0;
          for (size_t c2 = 0; c2 < classes.n; c2++)
            for (size_t i2 = 0; i2 < files[c2].n; i2++, k++) {
              snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[c2], files[c2].v[i2]);
              ds->labels[k] = (int32_t)c2;
              if (!(paths[k] = strdup(path))) st = ts_error_set(err, TS_ERR_NOMEM, "file names");
            }
          if (!st) st = make_file_stream(ds, paths, total, ch, h, w, err);
          else {
            for (size_t i2 = 0; i2 < total; i2++) free(paths[i2]);
            free(paths);
          }
          at = total;
          break;
        }
        st = ts_dataset_alloc(ds, (int64_t)total, ch, h, w, (int)classes.n, err);
      }
      const TsImage *use = &img;
      if (!st && (img.width != w || img.height != h)) {
        st = ts_image_resize(&img, w, h, 0, &rs, err);
        use = &rs;
      }
      if (!st) {
        ts_dataset_image_to_chw(use, ch, ds->pixels + at * (size_t)ch * (size_t)h * (size_t)w);
        ds->labels[at++] = (int32_t)c;
      }
      ts_image_clear(&img);
      ts_image_clear(&rs);
    }
  }
  if (!st) {
    ds->class_names = classes.v; /* ownership moves to the dataset */
    classes.v = NULL;
    classes.n = 0;
    snprintf(ds->source, sizeof ds->source, "folder:%.500s", dir);
  }
  for (size_t c = 0; c < nclass; c++) ts_strlist_clear(&files[c]);
  free(files);
  ts_strlist_clear(&classes);
  if (st) ts_dataset_clear(ds);
  return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Classes of a label cache's pictures: the first folder of each name, when
 * every name has one and there are at least two (a labelled folder of class
 * folders); else one class. */
static TsStatus cache_classes(const TsLabelCache *cache, TsDataset *ds, TsError *err) {
  size_t n = ts_label_cache_count(cache);
  char **first = ts_calloc_array(n, sizeof(char *), "class names", err);
  if (!first) return TS_ERR_NOMEM;
  TsStatus st = TS_OK;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = ts_label_cache_name(cache, i), *slash = strchr(name, '/');
    if (!slash) break;
    if (!(first[k] = strndup(name, (size_t)(slash - name)))) {
      st = ts_error_set(err, TS_ERR_NOMEM, "class names");
      break;
    }
    k++;
  }
  if (!st && k == n && n) {
    char **u = ts_alloc_array(n, sizeof(char *), "class names", err);
    if (!u) st = TS_ERR_NOMEM;
    size_t nu = 0;
    if (!st) {
      memcpy(u, first, n * sizeof(char *));
      qsort(u, n, sizeof(char *), cmp_str);
      for (size_t i = 0; i < n; i++)
        if (!nu || strcmp(u[nu - 1], u[i]) != 0) u[nu++] = u[i];
    }
    if (!st && nu >= 2 && nu <= INT32_MAX) {
      ds->class_names = ts_calloc_array(nu, sizeof(char *), "class names", err);
      if (!ds->class_names) st = TS_ERR_NOMEM;
      for (size_t c = 0; !st && c < nu; c++)
        if (!(ds->class_names[c] = strdup(u[c]))) st = ts_error_set(err, TS_ERR_NOMEM, "class names");
      ds->num_classes = (int)nu;
      for (size_t i = 0; !st && i < n; i++) {
        char **hit = bsearch(&first[i], ds->class_names, nu, sizeof(char *), cmp_str);
        ds->labels[i] = (int32_t)(hit - ds->class_names);
      }
    }
    free(u);
  }
  for (size_t i = 0; i < k; i++) free(first[i]);
  free(first);
  return st;
}

TsStatus ts_dataset_load_label_cache(const char *dir, const char *cache_path, const TsDatasetOptions *opts,
                                     TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsLabelCache *cache;
  TsStatus st = ts_label_cache_open(cache_path, &cache, err);
  if (st) return st;
  size_t n = ts_label_cache_count(cache);
  int nd = ts_label_cache_dims(cache);
  if (!ts_label_cache_complete(cache))
    st = ts_error_set(err, TS_ERR_INVALID,
                      "'%s' is incomplete (labelling still running or interrupted: finish it with toposcope label --resume)",
                      cache_path);
  else if (n == 0)
    st = ts_error_set(err, TS_ERR_INVALID, "'%s' holds no labels", cache_path);
  else if (nd < 1)
    st = ts_error_set(err, TS_ERR_FORMAT, "'%s': labels of %d values", cache_path, nd);
  int h = opts ? opts->height : 0, w = opts ? opts->width : 0, ch = opts ? opts->channels : 0;
  if (!st && (ch < 0 || ch == 2 || ch > 3)) st = ts_error_set(err, TS_ERR_INVALID, "%d channels (1 or 3)", ch);
  char path[8800];
  for (size_t i = 0; i < n && !st; i++) {
    const char *name = ts_label_cache_name(cache, i);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    TsImage img = {0}, rs = {0};
    if ((st = ts_image_load(path, &img, err))) {
      ts_error_prefix(err, "'%s' row %zu", cache_path, i);
      break;
    }
    if (!ds->pixels) {
      if (!h) h = img.height;
      if (!w) w = img.width;
      if (!ch) ch = img.channels >= 3 ? 3 : 1;
      if (too_big(opts, n, ch, h, w)) {
        /* streamed: the labels in memory, the pictures decoded per batch */
        ts_image_clear(&img);
        char **paths = ts_calloc_array(n, sizeof(char *), "file names", err);
        ds->labels = ts_calloc_array(n, sizeof(int32_t), "dataset labels", err);
        ds->targets = ts_alloc_array(n, (size_t)nd * sizeof(float), "label targets", err);
        ds->target_dims = nd;
        ds->num_classes = 1;
        if (!paths || !ds->labels || !ds->targets) {
          free(paths);
          st = TS_ERR_NOMEM;
          break;
        }
        for (size_t k = 0; k < n && !st; k++) {
          snprintf(path, sizeof path, "%s/%s", dir, ts_label_cache_name(cache, k));
          if (!(paths[k] = strdup(path))) st = ts_error_set(err, TS_ERR_NOMEM, "file names");
          if (!st) st = ts_label_cache_row(cache, k, ds->targets + k * (size_t)nd, err);
        }
        if (!st) st = make_file_stream(ds, paths, n, ch, h, w, err);
        else {
          for (size_t k = 0; k < n; k++) free(paths[k]);
          free(paths);
        }
        if (st) ts_error_prefix(err, "'%s'", cache_path);
        break;
      }
      st = ts_dataset_alloc(ds, (int64_t)n, ch, h, w, 1, err);
      if (!st) {
        ds->targets = ts_alloc_array(n, (size_t)nd * sizeof(float), "label targets", err);
        ds->target_dims = nd;
        if (!ds->targets) st = TS_ERR_NOMEM;
      }
    }
    const TsImage *use = &img;
    if (!st && (img.width != w || img.height != h)) {
      st = ts_image_resize(&img, w, h, 0, &rs, err);
      use = &rs;
    }
    if (!st) {
      ts_dataset_image_to_chw(use, ch, ds->pixels + i * (size_t)ch * (size_t)h * (size_t)w);
      st = ts_label_cache_row(cache, i, ds->targets + i * (size_t)nd, err);
    }
    ts_image_clear(&img);
    ts_image_clear(&rs);
  }
  if (!st) st = cache_classes(cache, ds, err);
  if (!st && !(ds->label_params = strdup(ts_label_cache_params(cache))))
    st = ts_error_set(err, TS_ERR_NOMEM, "label parameters");
  ts_label_cache_close(cache);
  if (!st) snprintf(ds->source, sizeof ds->source, "labels:%.250s,%.250s", dir, cache_path);
  if (st) ts_dataset_clear(ds);
  return st;
}
