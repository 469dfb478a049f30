/* diagram-io.c — reading and writing diagrams (see diagram-io.h). */
#include "ph/diagram-io.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIPHA_MAGIC INT64_C(8067171840)
#define DIPHA_DIAGRAM 2
#define MAX_DIM 64

static const char *const format_names[] = {"auto", "csv", "text", "npy", "dipha"};

const char *ts_diagram_format_name(TsDiagramFormat f) {
  return (unsigned)f < sizeof format_names / sizeof *format_names ? format_names[f] : "?";
}

int ts_diagram_format_parse(const char *name) {
  for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
    if (strcasecmp(name, format_names[i]) == 0) return (int)i;
  if (strcasecmp(name, "gudhi") == 0 || strcasecmp(name, "ripser") == 0 || strcasecmp(name, "txt") == 0)
    return TS_DGM_TEXT;
  return -1;
}

TsDiagramFormat ts_diagram_format_from_name(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot) return TS_DGM_AUTO;
  dot++;
  if (strcasecmp(dot, "csv") == 0) return TS_DGM_CSV;
  if (strcasecmp(dot, "npy") == 0) return TS_DGM_NPY;
  if (strcasecmp(dot, "txt") == 0 || strcasecmp(dot, "dgm") == 0 || strcasecmp(dot, "pers") == 0 ||
      strcasecmp(dot, "out") == 0)
    return TS_DGM_TEXT;
  if (strcasecmp(dot, "bin") == 0 || strcasecmp(dot, "dipha") == 0) return TS_DGM_DIPHA;
  return TS_DGM_AUTO;
}

/* ---- whole files ----------------------------------------------------- */

static TsStatus slurp(const char *path, char **buf, size_t *len, TsError *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap + 1);
  if (!b) {
    fclose(f);
    return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", path);
  }
  for (;;) {
    if (n == cap) {
      char *nb = cap > SIZE_MAX / 4 ? NULL : realloc(b, cap * 2 + 1);
      if (!nb) {
        free(b);
        fclose(f);
        return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", path);
      }
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(b);
    return ts_error_set(err, TS_ERR_IO, "cannot read '%s': read error", path);
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return TS_OK;
}

/* ---- text parsing helpers -------------------------------------------- */

typedef struct Line {
  const char *s; /* trimmed start */
  size_t n;      /* trimmed length */
  long no;       /* 1-based line number */
} Line;

/* Next line of text (at *pos), trimmed of blanks at both ends. 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, long *lineno, Line *out) {
  if (*pos >= len) return 0;
  size_t b = *pos, e = b;
  while (e < len && text[e] != '\n') e++;
  *pos = e < len ? e + 1 : e;
  (*lineno)++;
  while (b < e && isspace((unsigned char)text[b])) b++;
  while (e > b && isspace((unsigned char)text[e - 1])) e--;
  out->s = text + b;
  out->n = e - b;
  out->no = *lineno;
  return 1;
}

/* Parses a number occupying exactly [s, s+n) (blanks around allowed).
 * "inf", "+inf", "infinity" (any case) read as +inf; NaN is refused. */
static int parse_num(const char *s, size_t n, double *out) {
  char buf[128];
  while (n && isspace((unsigned char)*s)) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (*end || end == buf || isnan(v)) return -1;
  if (errno == ERANGE && fabs(v) < 1) v = 0; /* underflow: keep the tiny value as 0 */
  *out = v;
  return 0;
}

static int parse_dim(const char *s, size_t n, int *out) {
  double v;
  if (parse_num(s, n, &v) || v != floor(v) || v < 0 || v > MAX_DIM) return -1;
  *out = (int)v;
  return 0;
}

static TsStatus bad_line(TsError *err, const char *name, const Line *l, const char *what) {
  int show = l->n > 40 ? 40 : (int)l->n;
  return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': line %ld: %s: '%.*s%s'", name, l->no, what, show, l->s,
                      l->n > 40 ? "..." : "");
}

static TsStatus check_pair(TsError *err, const char *name, const Line *l, double b, double d) {
  if (isinf(b)) return bad_line(err, name, l, "infinite birth");
  if (isinf(d) && d < 0) return bad_line(err, name, l, "death is -inf");
  return TS_OK;
}

/* Splits [s, s+n) at sep (or at runs of blanks when sep is 0) into at most
 * max fields; returns the count, or max+1 when there are more. */
static int split(const char *s, size_t n, char sep, const char **fs, size_t *fn, int max) {
  int k = 0;
  size_t i = 0;
  if (sep == 0) {
    while (i < n) {
      while (i < n && isspace((unsigned char)s[i])) i++;
      if (i >= n) break;
      size_t b = i;
      while (i < n && !isspace((unsigned char)s[i])) i++;
      if (k == max) return max + 1;
      fs[k] = s + b;
      fn[k++] = i - b;
    }
    return k;
  }
  size_t b = 0;
  for (i = 0; i <= n; i++) {
    if (i == n || s[i] == sep) {
      if (k == max) return max + 1;
      fs[k] = s + b;
      fn[k++] = i - b;
      b = i + 1;
    }
  }
  return k;
}

/* ---- CSV ------------------------------------------------------------- */

static const char axis_names[4] = {'x', 'y', 'z', 'w'};

static TsStatus parse_csv(const char *text, size_t len, const char *name, TsDiagram *out, TsError *err) {
  size_t pos = 0;
  long lineno = 0;
  Line l;
  int have_header = 0, nloc = 0; /* location columns per end (birth/death) */
  TsLocKind loc = TS_LOC_NONE;
  const char *fs[16];
  size_t fn[16];
  while (next_line(text, len, &pos, &lineno, &l)) {
    if (l.n == 0 || l.s[0] == '#') continue;
    int k = split(l.s, l.n, ',', fs, fn, 15);
    if (!have_header) {
      have_header = 1;
      double tmp;
      if (k >= 1 && parse_num(fs[0], fn[0], &tmp) != 0) {
        /* a header: dim,birth,death then optional locations */
        static const char *const first[3] = {"dim", "birth", "death"};
        if (k < 3 || k > 11) return bad_line(err, name, &l, "expected a header 'dim,birth,death[,locations]'");
        for (int c = 0; c < 3; c++)
          if (fn[c] != strlen(first[c]) || strncasecmp(fs[c], first[c], fn[c]) != 0)
            return bad_line(err, name, &l, "expected a header 'dim,birth,death[,locations]'");
        int extra = k - 3;
        if (extra % 2) return bad_line(err, name, &l, "location columns must come in birth/death halves");
        nloc = extra / 2;
        if (nloc > 4) return bad_line(err, name, &l, "more than 4 location columns per end");
        if (nloc) {
          int edges = fn[3] == 7 && strncasecmp(fs[3], "birth_i", 7) == 0;
          loc = edges ? TS_LOC_EDGES : TS_LOC_CELLS;
          if (edges && nloc != 2) return bad_line(err, name, &l, "edge locations need birth_i,birth_j,death_i,death_j");
          for (int c = 0; c < 2 * nloc; c++) {
            char want[16];
            snprintf(want, sizeof want, "%s_%c", c < nloc ? "birth" : "death",
                     edges ? "ij"[c % nloc] : axis_names[c % nloc]);
            if (fn[3 + c] != strlen(want) || strncasecmp(fs[3 + c], want, fn[3 + c]) != 0)
              return bad_line(err, name, &l, "unknown location column in the header");
          }
        }
        out->loc = loc;
        continue;
      }
      /* no header: plain dim,birth,death rows */
    }
    if (k != 3 + 2 * nloc)
      return bad_line(err, name, &l, nloc ? "wrong number of fields" : "expected 3 fields 'dim,birth,death'");
    TsPair p;
    memset(&p, 0, sizeof p);
    for (int c = 0; c < 4; c++) p.birth_at[c] = p.death_at[c] = -1;
    if (parse_dim(fs[0], fn[0], &p.dim)) return bad_line(err, name, &l, "bad dimension");
    if (parse_num(fs[1], fn[1], &p.birth)) return bad_line(err, name, &l, "bad birth value");
    if (parse_num(fs[2], fn[2], &p.death)) return bad_line(err, name, &l, "bad death value");
    TsStatus st = check_pair(err, name, &l, p.birth, p.death);
    if (st) return st;
    for (int c = 0; c < 2 * nloc; c++) {
      double v;
      if (parse_num(fs[3 + c], fn[3 + c], &v) || v != floor(v) || v < -1 || v > INT32_MAX)
        return bad_line(err, name, &l, "bad location (an integer >= -1)");
      if (c < nloc) p.birth_at[c] = (int32_t)v;
      else p.death_at[c - nloc] = (int32_t)v;
    }
    if ((st = ts_diagram_push(out, &p, err))) return st;
  }
  return TS_OK;
}

/* ---- GUDHI / ripser text ------------------------------------------------ */

static int starts_with(const Line *l, const char *prefix) {
  size_t n = strlen(prefix);
  return l->n >= n && strncmp(l->s, prefix, n) == 0;
}

/* ripser's console header lines, skipped. */
static int ripser_preamble(const Line *l) {
  static const char *const known[] = {"value range", "distance matrix", "point cloud", "sparse distance matrix",
                                      "lower distance matrix", "upper distance matrix", "using threshold",
                                      "dipha", "reading", "computing"};
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (starts_with(l, known[i])) return 1;
  return 0;
}

static TsStatus parse_gudhi_text(const char *text, size_t len, const char *name, TsDiagram *out, TsError *err) {
  size_t pos = 0;
  long lineno = 0;
  Line l;
  int ripser_dim = -1, seen_data = 0;
  const char *fs[6];
  size_t fn[6];
  while (next_line(text, len, &pos, &lineno, &l)) {
    if (l.n == 0 || l.s[0] == '#') continue;
    TsStatus st;
    if (starts_with(&l, "persistence intervals in dim")) {
      size_t k = strlen("persistence intervals in dim");
      size_t e = l.n;
      if (e > k && l.s[e - 1] == ':') e--;
      if (parse_dim(l.s + k, e - k, &ripser_dim)) return bad_line(err, name, &l, "bad dimension in ripser header");
      seen_data = 1;
      if (ripser_dim > out->maxdim) out->maxdim = ripser_dim;
      continue;
    }
    if (l.s[0] == '[') {
      if (ripser_dim < 0) return bad_line(err, name, &l, "interval before any 'persistence intervals in dim' line");
      const char *comma = memchr(l.s, ',', l.n);
      const char *close = comma ? memchr(comma, ')', l.n - (size_t)(comma - l.s)) : NULL;
      if (!comma || !close) return bad_line(err, name, &l, "expected an interval '[birth,death)'");
      double b, d;
      if (parse_num(l.s + 1, (size_t)(comma - l.s - 1), &b)) return bad_line(err, name, &l, "bad birth value");
      const char *ds = comma + 1;
      size_t dn = (size_t)(close - ds);
      size_t t = 0;
      while (t < dn && isspace((unsigned char)ds[t])) t++;
      if (t == dn) d = INFINITY; /* ripser writes " [0, )" for an essential class */
      else if (parse_num(ds, dn, &d)) return bad_line(err, name, &l, "bad death value");
      if ((st = check_pair(err, name, &l, b, d))) return st;
      if ((st = ts_diagram_add(out, ripser_dim, b, d, err))) return st;
      continue;
    }
    if (isalpha((unsigned char)l.s[0]) && !seen_data && ripser_preamble(&l)) continue;
    int k = split(l.s, l.n, 0, fs, fn, 5);
    int dim = 0;
    double b, d;
    if (k == 2) {
      if (parse_num(fs[0], fn[0], &b) || parse_num(fs[1], fn[1], &d))
        return bad_line(err, name, &l, "expected 'birth death'");
    } else if (k == 3 || k == 4) {
      int o = k - 3; /* GUDHI's write_persistence puts the field first */
      if (parse_dim(fs[o], fn[o], &dim)) return bad_line(err, name, &l, "bad dimension");
      if (parse_num(fs[o + 1], fn[o + 1], &b)) return bad_line(err, name, &l, "bad birth value");
      if (parse_num(fs[o + 2], fn[o + 2], &d)) return bad_line(err, name, &l, "bad death value");
    } else {
      return bad_line(err, name, &l, "expected 'birth death', 'dim birth death' or 'field dim birth death'");
    }
    if ((st = check_pair(err, name, &l, b, d))) return st;
    if ((st = ts_diagram_add(out, dim, b, d, err))) return st;
    seen_data = 1;
  }
  return TS_OK;
}

static TsDiagramFormat sniff_text(const char *text, size_t len) {
  size_t pos = 0;
  long lineno = 0;
  Line l;
  while (next_line(text, len, &pos, &lineno, &l)) {
    if (l.n == 0 || l.s[0] == '#') continue;
    if (starts_with(&l, "dim,") || memchr(l.s, ',', l.n)) {
      if (l.s[0] == '[') return TS_DGM_TEXT;
      if (!starts_with(&l, "persistence") && !starts_with(&l, "value range") && !starts_with(&l, "distance"))
        return TS_DGM_CSV;
    }
    return TS_DGM_TEXT;
  }
  return TS_DGM_TEXT;
}

TsStatus ts_diagram_parse_text(const char *text, size_t len, const char *name, TsDiagramFormat fmt, TsDiagram *out,
                               TsError *err) {
  ts_diagram_init(out);
  if (fmt == TS_DGM_AUTO) fmt = sniff_text(text, len);
  TsStatus st;
  if (fmt == TS_DGM_CSV) st = parse_csv(text, len, name, out, err);
  else if (fmt == TS_DGM_TEXT) st = parse_gudhi_text(text, len, name, out, err);
  else st = ts_error_set(err, TS_ERR_INVALID, "'%s': %s is not a text format", name, ts_diagram_format_name(fmt));
  if (st) ts_diagram_clear(out);
  return st;
}

/* ---- .npy ------------------------------------------------------------ */

static uint64_t rd_le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void wr_le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Finds 'key': in the header dict and returns a pointer after the colon. */
static const char *npy_field(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static TsStatus npy_parse(const uint8_t *buf, size_t len, const char *path, double **data, size_t *rows, size_t *cols,
                          TsError *err) {
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a .npy file (bad magic)", path);
  int major = buf[6];
  size_t hlen, hoff;
  if (major == 1) hlen = rd_le(buf + 8, 2), hoff = 10;
  else if (major == 2 || major == 3) {
    if (len < 12) return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated .npy header", path);
    hlen = rd_le(buf + 8, 4), hoff = 12;
  } else {
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': .npy version %d", path, major);
  }
  if (hlen > len - hoff || hlen > 65536)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated .npy header", path);
  char *h = malloc(hlen + 1);
  if (!h) return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", path);
  memcpy(h, buf + hoff, hlen);
  h[hlen] = '\0';
  TsStatus st = TS_OK;
  const char *descr = npy_field(h, "descr"), *fo = npy_field(h, "fortran_order"), *shape = npy_field(h, "shape");
  char type[8] = {0};
  if (!descr || !fo || !shape || *descr != '\'' || sscanf(descr + 1, "%7[^']", type) != 1) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed .npy header", path);
    goto done;
  }
  int fortran = strncmp(fo, "True", 4) == 0;
  int esize = 0, kind = 0; /* kind: 'f' float, 'i' int, 'u' unsigned */
  if (type[0] != '<' && type[0] != '|' && type[0] != '=') {
    st = ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': .npy dtype '%s' is not little-endian", path, type);
    goto done;
  }
  kind = type[1];
  esize = atoi(type + 2);
  if (!((kind == 'f' && (esize == 4 || esize == 8)) || ((kind == 'i' || kind == 'u') && (esize == 1 || esize == 2 || esize == 4 || esize == 8)))) {
    st = ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': .npy dtype '%s' (want float64, float32 or integers)",
                      path, type);
    goto done;
  }
  if (*shape != '(') {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed .npy shape", path);
    goto done;
  }
  size_t dims[3];
  int nd = 0;
  const char *p = shape + 1;
  for (;;) {
    while (*p == ' ') p++;
    if (*p == ')') break;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || errno || nd == 3) {
      st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed .npy shape", path);
      goto done;
    }
    dims[nd++] = (size_t)v;
    p = end;
    while (*p == ' ') p++;
    if (*p == ',') p++;
  }
  if (nd != 1 && nd != 2) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': a diagram array is 2-D, this one has %d axes", path, nd);
    goto done;
  }
  size_t r = dims[0], c = nd == 2 ? dims[1] : 1, count, bytes;
  if (ts_mul_size(r, c, &count) || ts_mul_size(count, (size_t)esize, &bytes)) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': .npy shape overflows", path);
    goto done;
  }
  if (bytes > len - hoff - hlen) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated .npy data (%zu bytes expected, %zu present)",
                      path, bytes, len - hoff - hlen);
    goto done;
  }
  double *out = ts_alloc_array(count ? count : 1, sizeof *out, path, err);
  if (!out) {
    st = TS_ERR_NOMEM;
    goto done;
  }
  const uint8_t *src = buf + hoff + hlen;
  for (size_t i = 0; i < count; i++) {
    uint64_t raw = rd_le(src + i * (size_t)esize, esize);
    double v;
    if (kind == 'f' && esize == 8) memcpy(&v, &raw, 8);
    else if (kind == 'f') {
      uint32_t r32 = (uint32_t)raw;
      float f;
      memcpy(&f, &r32, 4);
      v = f;
    } else if (kind == 'u') v = (double)raw;
    else {
      int64_t s = (int64_t)(raw << (64 - 8 * esize)) >> (64 - 8 * esize);
      v = (double)s;
    }
    size_t row = fortran ? i % r : i / c, col = fortran ? i / r : i % c;
    out[row * c + col] = v;
  }
  *data = out;
  *rows = r;
  *cols = c;
done:
  free(h);
  return st;
}

TsStatus ts_npy_read_f64(const char *path, double **data, size_t *rows, size_t *cols, TsError *err) {
  char *buf;
  size_t len;
  TsStatus st = slurp(path, &buf, &len, err);
  if (st) return st;
  st = npy_parse((const uint8_t *)buf, len, path, data, rows, cols, err);
  free(buf);
  return st;
}

TsStatus ts_npy_write_f64(const char *path, const double *data, size_t rows, size_t cols, TsError *err) {
  char h[256];
  int n = snprintf(h, sizeof h, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }", rows, cols);
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  uint8_t pre[10];
  memcpy(pre, "\x93NUMPY\x01\x00", 8);
  wr_le(pre + 8, (uint64_t)n + pad + 1, 2);
  FILE *f = fopen(path, "wb");
  if (!f) return ts_error_errno(err, errno, "cannot write '%s'", path);
  fwrite(pre, 1, 10, f);
  fwrite(h, 1, (size_t)n, f);
  for (size_t i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  for (size_t i = 0; i < rows * cols; i++) {
    uint64_t raw;
    uint8_t le[8];
    memcpy(&raw, &data[i], 8);
    wr_le(le, raw, 8);
    fwrite(le, 1, 8, f);
  }
  if (ferror(f) | fclose(f)) return ts_error_set(err, TS_ERR_IO, "cannot write '%s': write error", path);
  return TS_OK;
}

static TsStatus diagram_from_matrix(const double *m, size_t rows, size_t cols, const char *path, TsDiagram *out,
                                    TsError *err) {
  if (cols != 2 && cols != 3 && cols != 9)
    return ts_error_set(err, TS_ERR_FORMAT,
                        "cannot read '%s': a diagram array is n x 2, n x 3 or n x 9 (CubicalRipser), not %zu x %zu", path,
                        rows, cols);
  TsStatus st = ts_diagram_reserve(out, rows, err);
  if (st) return st;
  if (cols == 9) out->loc = TS_LOC_CELLS;
  for (size_t i = 0; i < rows; i++) {
    const double *r = m + i * cols;
    TsPair p;
    memset(&p, 0, sizeof p);
    for (int c = 0; c < 4; c++) p.birth_at[c] = p.death_at[c] = -1;
    int o = cols == 2 ? 0 : 1;
    double dim = cols == 2 ? 0 : r[0];
    if (!(dim >= 0 && dim <= MAX_DIM && dim == floor(dim)))
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': row %zu: bad dimension %g", path, i, dim);
    p.dim = (int)dim;
    p.birth = r[o];
    p.death = r[o + 1] >= DBL_MAX ? INFINITY : r[o + 1];
    if (isnan(p.birth) || isnan(p.death) || isinf(p.birth))
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': row %zu: bad birth/death (%g, %g)", path, i, p.birth,
                          p.death);
    if (cols == 9) {
      for (int c = 0; c < 3; c++) {
        double bv = r[3 + c], dv = r[6 + c];
        if (bv != floor(bv) || dv != floor(dv) || bv < -1 || dv < -1 || bv > INT32_MAX || dv > INT32_MAX)
          return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': row %zu: bad location", path, i);
        p.birth_at[c] = (int32_t)bv;
        p.death_at[c] = (int32_t)dv;
      }
    }
    if ((st = ts_diagram_push(out, &p, err))) return st;
  }
  return TS_OK;
}

/* ---- DIPHA ----------------------------------------------------------- */

static TsStatus parse_dipha(const uint8_t *b, size_t len, const char *path, TsDiagram *out, TsError *err) {
  if (len < 24 || (int64_t)rd_le(b, 8) != DIPHA_MAGIC)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a DIPHA file (bad magic)", path);
  int64_t type = (int64_t)rd_le(b + 8, 8), n = (int64_t)rd_le(b + 16, 8);
  if (type != DIPHA_DIAGRAM)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': DIPHA file of type %lld, not a persistence diagram (2)",
                        path, (long long)type);
  if (n < 0 || (uint64_t)n > (len - 24) / 24)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated DIPHA diagram (%lld pairs announced, room for %zu)",
                        path, (long long)n, (len - 24) / 24);
  TsStatus st = ts_diagram_reserve(out, (size_t)n, err);
  if (st) return st;
  for (int64_t i = 0; i < n; i++) {
    const uint8_t *r = b + 24 + 24 * i;
    int64_t dim = (int64_t)rd_le(r, 8);
    uint64_t rb = rd_le(r + 8, 8), rdv = rd_le(r + 16, 8);
    double birth, death;
    memcpy(&birth, &rb, 8);
    memcpy(&death, &rdv, 8);
    int essential = dim < 0;
    if (essential) dim = -dim - 1;
    if (dim > MAX_DIM || isnan(birth) || isinf(birth) || (!essential && isnan(death)))
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': pair %lld (byte %lld): bad values", path,
                          (long long)i, (long long)(24 + 24 * i));
    if ((st = ts_diagram_add(out, (int)dim, birth, essential ? INFINITY : death, err))) return st;
  }
  return TS_OK;
}

/* ---- reading --------------------------------------------------------- */

TsStatus ts_diagram_read(const char *path, TsDiagramFormat fmt, TsDiagram *out, TsError *err) {
  ts_diagram_init(out);
  char *buf;
  size_t len;
  TsStatus st = slurp(path, &buf, &len, err);
  if (st) return st;
  if (fmt == TS_DGM_AUTO) fmt = ts_diagram_format_from_name(path);
  if (fmt == TS_DGM_AUTO) {
    if (len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0) fmt = TS_DGM_NPY;
    else if (len >= 8 && (int64_t)rd_le((const uint8_t *)buf, 8) == DIPHA_MAGIC) fmt = TS_DGM_DIPHA;
    else if (memchr(buf, '\0', len)) st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a diagram file", path);
  }
  if (!st) {
    switch (fmt) {
    case TS_DGM_NPY: {
      double *m;
      size_t r, c;
      st = npy_parse((const uint8_t *)buf, len, path, &m, &r, &c, err);
      if (!st) {
        st = diagram_from_matrix(m, r, c, path, out, err);
        free(m);
      }
      break;
    }
    case TS_DGM_DIPHA: st = parse_dipha((const uint8_t *)buf, len, path, out, err); break;
    default: st = ts_diagram_parse_text(buf, len, path, fmt, out, err); break;
    }
  }
  free(buf);
  if (st) ts_diagram_clear(out);
  return st;
}

/* ---- writing --------------------------------------------------------- */

/* Decimal digits of v at buf; returns the end. (printf is most of the cost
 * of a large CSV diagram, and its coordinates are all integers.) */
static char *put_int(char *buf, int64_t v) {
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *buf++ = '-';
  while (n) *buf++ = tmp[--n];
  return buf;
}

/* Shortest %g form that reads back exactly: integers (the values of 8-bit
 * images, distance transforms...) by put_int, which writes what %.15g would
 * below 1e15; others by %.15g, or %.17g when that does not read back. */
static void fmt_num(char *buf, size_t n, double v) {
  if (isinf(v)) {
    snprintf(buf, n, v > 0 ? "inf" : "-inf");
    return;
  }
  if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
    *put_int(buf, (int64_t)v) = '\0';
    return;
  }
  snprintf(buf, n, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}

static int loc_axes(const TsDiagram *d) {
  if (d->loc == TS_LOC_EDGES) return 2;
  if (d->loc != TS_LOC_CELLS) return 0;
  int k = 1;
  for (size_t i = 0; i < d->n; i++)
    for (int a = k; a < 4; a++)
      if (d->pairs[i].birth_at[a] != -1 || d->pairs[i].death_at[a] != -1) k = a + 1;
  return k;
}

TsStatus ts_diagram_write(const char *path, TsDiagramFormat fmt, const TsDiagram *d, TsError *err) {
  if (fmt == TS_DGM_AUTO) fmt = ts_diagram_format_from_name(path);
  if (fmt == TS_DGM_AUTO) fmt = TS_DGM_CSV;
  if (fmt == TS_DGM_NPY) {
    size_t cols = d->loc == TS_LOC_CELLS ? 9 : 3;
    double *m = ts_alloc_array(d->n ? d->n * cols : 1, sizeof *m, path, err);
    if (!m) return TS_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *p = &d->pairs[i];
      double *r = m + i * cols;
      r[0] = p->dim, r[1] = p->birth, r[2] = p->death;
      if (cols == 9)
        for (int c = 0; c < 3; c++) r[3 + c] = p->birth_at[c], r[6 + c] = p->death_at[c];
    }
    TsStatus st = ts_npy_write_f64(path, m, d->n, cols, err);
    free(m);
    return st;
  }
  FILE *f = fopen(path, "wb");
  if (!f) return ts_error_errno(err, errno, "cannot write '%s'", path);
  char b[40], e[40];
  if (fmt == TS_DGM_DIPHA) {
    uint8_t rec[24];
    wr_le(rec, (uint64_t)DIPHA_MAGIC, 8);
    wr_le(rec + 8, DIPHA_DIAGRAM, 8);
    wr_le(rec + 16, d->n, 8);
    fwrite(rec, 1, 24, f);
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *p = &d->pairs[i];
      int essential = isinf(p->death);
      uint64_t rb, rd;
      double death = essential ? INFINITY : p->death;
      memcpy(&rb, &p->birth, 8);
      memcpy(&rd, &death, 8);
      wr_le(rec, (uint64_t)(int64_t)(essential ? -p->dim - 1 : p->dim), 8);
      wr_le(rec + 8, rb, 8);
      wr_le(rec + 16, rd, 8);
      fwrite(rec, 1, 24, f);
    }
  } else if (fmt == TS_DGM_TEXT) {
    for (size_t i = 0; i < d->n; i++) {
      fmt_num(b, sizeof b, d->pairs[i].birth);
      fmt_num(e, sizeof e, d->pairs[i].death);
      fprintf(f, "%d %s %s\n", d->pairs[i].dim, b, e);
    }
  } else {
    int k = loc_axes(d);
    fputs("dim,birth,death", f);
    for (int h = 0; h < 2; h++)
      for (int a = 0; a < k; a++)
        fprintf(f, ",%s_%c", h ? "death" : "birth", d->loc == TS_LOC_EDGES ? "ij"[a] : axis_names[a]);
    fputc('\n', f);
    char row[160]; /* dim, two numbers of at most 24 characters, 8 integers of at most 11, commas */
    for (size_t i = 0; i < d->n; i++) {
      const TsPair *p = &d->pairs[i];
      char *w = put_int(row, p->dim);
      *w++ = ',';
      fmt_num(w, 40, p->birth);
      w += strlen(w);
      *w++ = ',';
      fmt_num(w, 40, p->death);
      w += strlen(w);
      for (int a = 0; a < k; a++) *w++ = ',', w = put_int(w, p->birth_at[a]);
      for (int a = 0; a < k; a++) *w++ = ',', w = put_int(w, p->death_at[a]);
      *w++ = '\n';
      fwrite(row, 1, (size_t)(w - row), f);
    }
  }
  if (ferror(f) | fclose(f)) return ts_error_set(err, TS_ERR_IO, "cannot write '%s': write error", path);
  return TS_OK;
}
