/* test-diagram-io.c — diagram files: round trips in every format, ripser's
 * console output, GUDHI's text, CubicalRipser's n x 9 .npy, and malformed
 * files failing with the file and the line in the message. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ph/diagram-io.h"
#include "ts-test.h"

static char dir[] = "/tmp/diagrams-io-XXXXXX";

static const char *path(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void write_file(const char *p, const void *data, size_t n) {
  FILE *f = fopen(p, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

static void sample(TsDiagram *d, int with_cells) {
  ts_diagram_init(d);
  double v[][3] = {{0, -3.5, INFINITY}, {0, -2, -1}, {0, 0.1, 0.30000000000000004}, {1, 2, 7.25}, {1, 1e-300, 1e300}};
  for (int i = 0; i < 5; i++) {
    TsPair p = {.birth = v[i][1], .death = v[i][2], .dim = (int)v[i][0]};
    for (int k = 0; k < 4; k++) p.birth_at[k] = p.death_at[k] = -1;
    if (with_cells) {
      p.birth_at[0] = i, p.birth_at[1] = 2 * i;
      if (!isinf(p.death)) p.death_at[0] = 10 + i, p.death_at[1] = 3;
    }
    ts_diagram_push(d, &p, NULL);
  }
  if (with_cells) d->loc = TS_LOC_CELLS;
}

static int same(const TsDiagram *a, const TsDiagram *b, int cells, int naxes) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++) {
    const TsPair *p = &a->pairs[i], *q = &b->pairs[i];
    if (p->dim != q->dim || p->birth != q->birth || p->death != q->death) return 0;
    for (int k = 0; cells && k < naxes; k++)
      if (p->birth_at[k] != q->birth_at[k] || p->death_at[k] != q->death_at[k]) return 0;
  }
  return 1;
}

static void test_round_trips(void) {
  TsDiagram d, r;
  TsError err;
  sample(&d, 1);
  TS_CHECK(ts_diagram_write(path("a.csv"), TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(ts_diagram_read(path("a.csv"), TS_DGM_AUTO, &r, &err) == TS_OK);
  TS_CHECK(r.loc == TS_LOC_CELLS && same(&d, &r, 1, 2));
  ts_diagram_clear(&r);
  TS_CHECK(ts_diagram_write(path("a.npy"), TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(ts_diagram_read(path("a.npy"), TS_DGM_AUTO, &r, &err) == TS_OK);
  TS_CHECK(r.loc == TS_LOC_CELLS && same(&d, &r, 1, 3));
  ts_diagram_clear(&r);
  for (int f = TS_DGM_TEXT; f <= TS_DGM_DIPHA; f++) {
    const char *p = path(f == TS_DGM_TEXT ? "b.txt" : f == TS_DGM_NPY ? "b.npy" : "b.bin");
    d.loc = TS_LOC_NONE;
    TS_CHECK(ts_diagram_write(p, (TsDiagramFormat)f, &d, &err) == TS_OK);
    TS_CHECKF(ts_diagram_read(p, TS_DGM_AUTO, &r, &err) == TS_OK, "%s", err.message);
    TS_CHECKF(same(&d, &r, 0, 0), "format %s", ts_diagram_format_name((TsDiagramFormat)f));
    ts_diagram_clear(&r);
    /* sniffed without an extension */
    char moved[300];
    snprintf(moved, sizeof moved, "%s/sniff%d", dir, f);
    rename(p, moved);
    TS_CHECK(ts_diagram_read(moved, TS_DGM_AUTO, &r, &err) == TS_OK && same(&d, &r, 0, 0));
    ts_diagram_clear(&r);
  }
  /* Rips edges in CSV */
  d.loc = TS_LOC_EDGES;
  TS_CHECK(ts_diagram_write(path("e.csv"), TS_DGM_CSV, &d, &err) == TS_OK);
  TS_CHECK(ts_diagram_read(path("e.csv"), TS_DGM_AUTO, &r, &err) == TS_OK);
  TS_CHECK(r.loc == TS_LOC_EDGES && same(&d, &r, 1, 2));
  ts_diagram_clear(&r);
  ts_diagram_clear(&d);
}

static void test_foreign_text(void) {
  TsDiagram d;
  TsError err;
  const char *rip = "value range: [0,2]\n"
                    "distance matrix with 4 points, using threshold at 2\n"
                    "persistence intervals in dim 0:\n [0,1)\n [0, )\n"
                    "persistence intervals in dim 1:\n [1.5,2)\n [0.5,inf)\n";
  TS_CHECK(ts_diagram_parse_text(rip, strlen(rip), "r", TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(d.n == 4 && d.pairs[1].dim == 0 && isinf(d.pairs[1].death) && d.pairs[2].dim == 1 &&
           d.pairs[2].birth == 1.5 && isinf(d.pairs[3].death));
  ts_diagram_clear(&d);
  const char *gudhi = "# from gudhi\n2 0 0 inf\n2 1 0.5 1.5\n\n";
  TS_CHECK(ts_diagram_parse_text(gudhi, strlen(gudhi), "g", TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(d.n == 2 && d.pairs[1].dim == 1 && d.pairs[1].death == 1.5);
  ts_diagram_clear(&d);
  const char *plain = "0.5 1\n0.25 Infinity\n";
  TS_CHECK(ts_diagram_parse_text(plain, strlen(plain), "p", TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(d.n == 2 && d.pairs[0].dim == 0 && isinf(d.pairs[1].death));
  ts_diagram_clear(&d);
  const char *noheader = "0,1,2\n1,0.5,inf\n";
  TS_CHECK(ts_diagram_parse_text(noheader, strlen(noheader), "c", TS_DGM_AUTO, &d, &err) == TS_OK && d.n == 2);
  ts_diagram_clear(&d);
}

static void test_cripser_npy(void) {
  /* CubicalRipser's n x 9 with DBL_MAX for the essential class */
  double m[2][9] = {{0, -4, DBL_MAX, 3, 5, 0, 0, 0, 0}, {1, 1, 2.5, 7, 8, 0, 9, 9, 0}};
  TsError err;
  TS_CHECK(ts_npy_write_f64(path("c.npy"), &m[0][0], 2, 9, &err) == TS_OK);
  TsDiagram d;
  TS_CHECK(ts_diagram_read(path("c.npy"), TS_DGM_AUTO, &d, &err) == TS_OK);
  TS_CHECK(d.n == 2 && isinf(d.pairs[0].death) && d.pairs[0].birth_at[1] == 5 && d.pairs[1].death_at[0] == 9);
  ts_diagram_clear(&d);
  double *v;
  size_t r, c;
  TS_CHECK(ts_npy_read_f64(path("c.npy"), &v, &r, &c, &err) == TS_OK && r == 2 && c == 9 && v[10] == 1);
  free(v);
}

static void expect_error(const char *name, const void *data, size_t n, const char *want) {
  const char *p = path(name);
  write_file(p, data, n);
  TsDiagram d;
  TsError err = {0};
  TsStatus st = ts_diagram_read(p, TS_DGM_AUTO, &d, &err);
  TS_CHECKF(st == TS_ERR_FORMAT || st == TS_ERR_UNSUPPORTED, "%s: status %d", name, st);
  TS_CHECKF(strstr(err.message, name) != NULL, "%s: message '%s' does not name the file", name, err.message);
  TS_CHECKF(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", name, err.message, want);
  TS_CHECK(d.n == 0 && d.pairs == NULL);
}

static void test_malformed(void) {
  const char *csv = "dim,birth,death\n0,1,2\n0,x,3\n";
  expect_error("bad1.csv", csv, strlen(csv), "line 3");
  csv = "dim,birth,death\n0,1\n";
  expect_error("bad2.csv", csv, strlen(csv), "line 2");
  csv = "dim,birth,death\n-1,1,2\n";
  expect_error("bad3.csv", csv, strlen(csv), "dimension");
  csv = "dim,birth,death\n0,nan,2\n";
  expect_error("bad4.csv", csv, strlen(csv), "line 2");
  csv = "dim,birth,death\n0,inf,2\n";
  expect_error("bad5.csv", csv, strlen(csv), "infinite birth");
  csv = "dim,life,death\n";
  expect_error("bad6.csv", csv, strlen(csv), "header");
  const char *txt = " [0,1)\n";
  expect_error("bad7.txt", txt, strlen(txt), "line 1");
  txt = "persistence intervals in dim 0:\n [0,1\n";
  expect_error("bad8.txt", txt, strlen(txt), "line 2");
  txt = "0 1 2 3 4 5\n";
  expect_error("bad9.txt", txt, strlen(txt), "line 1");
  unsigned char npy[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 200, 0};
  expect_error("bad10.npy", npy, sizeof npy, "truncated");
  /* an .npy whose data is shorter than its shape says */
  double m[6] = {0, 1, 2, 0, 3, 4};
  TS_CHECK(ts_npy_write_f64(path("t.npy"), m, 2, 3, NULL) == TS_OK);
  FILE *f = fopen(path("t.npy"), "rb");
  unsigned char buf[512];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  expect_error("bad11.npy", buf, n - 8, "truncated");
  TS_CHECK(ts_npy_write_f64(path("w.npy"), m, 3, 2, NULL) == TS_OK);
  f = fopen(path("w.npy"), "rb");
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  buf[60] = '7'; /* still parses: shape stays (3, 2) is replaced below */
  TsDiagram d;
  TsError err;
  TS_CHECK(ts_diagram_read(path("w.npy"), TS_DGM_AUTO, &d, &err) == TS_OK && d.n == 3); /* n x 2: birth, death */
  ts_diagram_clear(&d);
  double m4[4] = {0, 1, 2, 3};
  TS_CHECK(ts_npy_write_f64(path("bad12.npy"), m4, 1, 4, NULL) == TS_OK);
  TS_CHECK(ts_diagram_read(path("bad12.npy"), TS_DGM_AUTO, &d, &err) == TS_ERR_FORMAT && strstr(err.message, "n x 9"));
  unsigned char dip[24] = {0};
  expect_error("bad13.bin", dip, sizeof dip, "DIPHA");
  long long hdr[3] = {8067171840LL, 2, 5};
  expect_error("bad14.bin", hdr, sizeof hdr, "truncated");
  hdr[1] = 1;
  expect_error("bad15.bin", hdr, sizeof hdr, "type 1");
  TS_CHECK(ts_diagram_read(path("does-not-exist.csv"), TS_DGM_AUTO, &d, &err) == TS_ERR_IO &&
           strstr(err.message, "does-not-exist.csv"));
}

int main(void) {
  if (!mkdtemp(dir)) TS_SKIP("cannot make a temporary folder");
  TS_RUN(test_round_trips);
  TS_RUN(test_foreign_text);
  TS_RUN(test_cripser_npy);
  TS_RUN(test_malformed);
  int rc = ts_test_finish();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return rc;
}
