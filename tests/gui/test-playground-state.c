/* test-playground-state.c — the Playground's data without a window:
 * random states survive save and load bit for bit; malformed files are
 * refused naming the member; presets are functions of the seed with the
 * sizes Topo-GEN's tests use; the canvas's edge and triangle counts at r
 * equal a brute-force count; the matching view's pure functions find the
 * edge drawn under a pixel. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "base/rng.h"
#include "playground-state.h"
#include "plot/matching-view.h"
#include "point-canvas.h"
#include "ph/bottleneck.h"
#include "ph/rips.h"
#include "ts-test.h"

static void random_state(TsRng *r, TsPlaygroundState *s) {
  ts_playground_state_init(s);
  size_t n = ts_rng_below(r, 60), m = ts_rng_below(r, 60);
  for (size_t i = 0; i < n; i++) ts_cloud_add(&s->cloud, (ts_rng_uniform(r) - 0.5) * 1e3, ts_rng_normal(r) * 1e-7, NULL);
  for (size_t i = 0; i < m; i++) ts_cloud_add(&s->target, ts_rng_normal(r), -ts_rng_uniform(r) * 1e12, NULL);
  s->seed = ts_rng_u64(r) >> 2;
  s->step = (int64_t)ts_rng_below(r, 1000000);
  s->lr = 1e-4 + ts_rng_uniform(r);
  for (int k = 0; k < TS_PLAYGROUND_LOSSES; k++) s->weights[k] = ts_rng_below(r, 3) ? 0 : ts_rng_uniform(r) * 20;
  s->r = ts_rng_below(r, 4) ? ts_rng_uniform(r) * 7 : NAN;
  s->metric = (int)ts_rng_below(r, 2);
  s->dim = (int)ts_rng_below(r, 3) - 1;
  g_strlcpy(s->preset, ts_rng_below(r, 2) ? "circle" : "", sizeof s->preset);
  g_strlcpy(s->target_preset, "quote\"and\\slash", sizeof s->target_preset);
}

static int same_cloud(const TsCloud *a, const TsCloud *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->xy, b->xy, 2 * a->n * sizeof(double)) == 0);
}

static void test_roundtrip(void) {
  TsRng r;
  ts_rng_init(&r, 17, 0);
  char path[256];
  snprintf(path, sizeof path, "%s/ts-pg-%d.json", g_get_tmp_dir(), (int)getpid());
  for (int t = 0; t < 200; t++) {
    TsPlaygroundState a, b;
    random_state(&r, &a);
    ts_playground_state_init(&b);
    TsError err = {0};
    TS_CHECK(ts_playground_state_save(path, &a, &err) == TS_OK);
    TS_CHECKF(ts_playground_state_load(path, &b, &err) == TS_OK, "%s", err.message);
    TS_CHECK(same_cloud(&a.cloud, &b.cloud) && same_cloud(&a.target, &b.target));
    TS_CHECK(a.seed == b.seed && a.step == b.step && a.lr == b.lr && a.metric == b.metric && a.dim == b.dim);
    TS_CHECK((isnan(a.r) && isnan(b.r)) || a.r == b.r);
    TS_CHECK(memcmp(a.weights, b.weights, sizeof a.weights) == 0);
    TS_CHECK(strcmp(a.preset, b.preset) == 0 && strcmp(a.target_preset, b.target_preset) == 0);
    ts_playground_state_clear(&a);
    ts_playground_state_clear(&b);
  }
  g_remove(path);
}

static void test_malformed(void) {
  TsPlaygroundState s, good;
  ts_playground_state_init(&s);
  ts_playground_state_init(&good);
  ts_cloud_add(&good.cloud, 1, 2, NULL);
  char *text = ts_playground_state_to_json(&good, NULL);
  TS_CHECK(text != NULL);
  TsError err = {0};
  TS_CHECK(ts_playground_state_from_json(text, &s, &err) == TS_OK && s.cloud.n == 1);
  /* each member broken in turn: the message names it */
  static const struct {
    const char *from, *to, *word;
  } cases[] = {
      {"\"toposcope-playground\"", "\"other\"", "format"},
      {"\"version\":1", "\"version\":2", "version"},
      {"\"points\":[1,2]", "\"points\":[1,2,3]", "points"},
      {"\"points\":[1,2]", "\"points\":[1,null]", "points"},
      {"\"points\":[1,2]", "\"points\":[1,x]", "points"},
      {"\"weights\":[", "\"weights\":[1,", "weights"},
      {"\"metric\":\"bottleneck\"", "\"metric\":\"l7\"", "metric"},
      {"\"lr\":0.01", "\"lr\":-1", "lr"},
      {"\"dim\":1", "\"dim\":4", "dim"},
      {"\"seed\":1,", "", "seed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *at = strstr(text, cases[i].from);
    TS_CHECKF(at != NULL, "case %zu: %s not in %s", i, cases[i].from, text);
    if (!at) continue;
    GString *b = g_string_new_len(text, at - text);
    g_string_append(b, cases[i].to);
    g_string_append(b, at + strlen(cases[i].from));
    memset(&err, 0, sizeof err);
    TS_CHECKF(ts_playground_state_from_json(b->str, &s, &err) != TS_OK, "case %zu accepted", i);
    TS_CHECKF(strstr(err.message, cases[i].word) != NULL, "case %zu: '%s'", i, err.message);
    TS_CHECK(s.cloud.n == 0); /* nothing half-read is left */
    g_string_free(b, TRUE);
  }
  TS_CHECK(ts_playground_state_from_json("not json", &s, &err) != TS_OK);
  TS_CHECK(ts_playground_state_load("/nonexistent/state.json", &s, &err) != TS_OK &&
           strstr(err.message, "/nonexistent/state.json"));
  free(text);
  ts_playground_state_clear(&s);
  ts_playground_state_clear(&good);
}

static void test_presets(void) {
  for (size_t i = 0; i < ts_playground_preset_count(); i++) {
    const TsPlaygroundPreset *p = ts_playground_preset_get(i);
    TsCloud a, b, c, d;
    ts_cloud_init(&a), ts_cloud_init(&b), ts_cloud_init(&c), ts_cloud_init(&d);
    TS_CHECK(ts_playground_preset_fill(p->id, 5, &a, &b, NULL) == TS_OK);
    TS_CHECK(ts_playground_preset_fill(p->id, 5, &c, &d, NULL) == TS_OK);
    TS_CHECKF(same_cloud(&a, &c) && same_cloud(&b, &d), "%s is not a function of the seed", p->id);
    TS_CHECK(a.n > 0 && (!p->pair || b.n > 0));
    TS_CHECK(ts_playground_preset_fill(p->id, 6, &c, NULL, NULL) == TS_OK);
    TS_CHECKF(!same_cloud(&a, &c), "%s ignores the seed", p->id);
    ts_cloud_clear(&a), ts_cloud_clear(&b), ts_cloud_clear(&c), ts_cloud_clear(&d);
  }
  /* Topo-GEN's sizes */
  static const struct {
    const char *id;
    size_t n, m;
  } sizes[] = {{"topogen-1", 64, 3}, {"topogen-2", 64, 128}, {"topogen-3", 64, 100}};
  for (int k = 0; k < 3; k++) {
    TsCloud a, b;
    ts_cloud_init(&a), ts_cloud_init(&b);
    TS_CHECK(ts_playground_preset_fill(sizes[k].id, 1, &a, &b, NULL) == TS_OK);
    TS_CHECKF(a.n == sizes[k].n && b.n == sizes[k].m, "%s: %zu, %zu", sizes[k].id, a.n, b.n);
    ts_cloud_clear(&a), ts_cloud_clear(&b);
  }
  TS_CHECK(ts_playground_preset_fill("nope", 1, NULL, NULL, NULL) != TS_OK);
  /* a circle has one long H1 bar, a figure eight two */
  static const struct {
    const char *id;
    int loops;
  } loops[] = {{"circle", 1}, {"figure-eight", 2}, {"clusters", 0}};
  for (int k = 0; k < 3; k++) {
    TsCloud a;
    ts_cloud_init(&a);
    TS_CHECK(ts_playground_preset_fill(loops[k].id, 3, &a, NULL, NULL) == TS_OK);
    TsDiagram d;
    ts_diagram_init(&d);
    TS_CHECK(ts_rips_ph_points(a.xy, a.n, 2, NULL, &d, NULL) == TS_OK);
    int n = 0;
    for (size_t i = 0; i < d.n; i++) n += d.pairs[i].dim == 1 && d.pairs[i].death - d.pairs[i].birth > 1.0;
    TS_CHECKF(n == loops[k].loops, "%s: %d long H1 bars", loops[k].id, n);
    ts_diagram_clear(&d);
    ts_cloud_clear(&a);
  }
}

static void test_counts(void) {
  TsRng r;
  ts_rng_init(&r, 3, 1);
  for (int t = 0; t < 30; t++) {
    TsCloud c;
    ts_cloud_init(&c);
    size_t n = 1 + ts_rng_below(&r, 40);
    for (size_t i = 0; i < n; i++) ts_cloud_add(&c, ts_rng_uniform(&r) * 4, ts_rng_uniform(&r) * 4, NULL);
    double rad = ts_rng_uniform(&r) * 3;
    TsPointCanvasCounts got;
    ts_point_canvas_count(&c, rad, &got);
    size_t e = 0, tri = 0;
#define D(i, j) hypot(c.xy[2 * (i)] - c.xy[2 * (j)], c.xy[2 * (i) + 1] - c.xy[2 * (j) + 1])
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) {
        e += D(i, j) <= rad;
        for (size_t k = j + 1; k < n; k++) tri += D(i, j) <= rad && D(i, k) <= rad && D(j, k) <= rad;
      }
#undef D
    TS_CHECKF(got.edges == e && got.triangles == tri, "%zu/%zu vs %zu/%zu", got.edges, got.triangles, e, tri);
    ts_cloud_clear(&c);
  }
}

static void test_matching_pick(void) {
  TsCloud a, b;
  ts_cloud_init(&a), ts_cloud_init(&b);
  ts_playground_preset_fill("circle", 1, &a, NULL, NULL);
  ts_playground_preset_fill("figure-eight", 1, &b, NULL, NULL);
  TsDiagram da, db;
  ts_diagram_init(&da), ts_diagram_init(&db);
  TS_CHECK(ts_rips_ph_points(a.xy, a.n, 2, NULL, &da, NULL) == TS_OK);
  TS_CHECK(ts_rips_ph_points(b.xy, b.n, 2, NULL, &db, NULL) == TS_OK);
  TsMatching m;
  double dist;
  TS_CHECK(ts_bottleneck_distance(&da, &db, -1, &dist, &m, NULL) == TS_OK);
  long longest = ts_matching_longest(&m);
  TS_CHECK(longest >= 0 && m.edges[longest].cost == dist);
  for (int side = 0; side < 2; side++) {
    TsMatchingViewData d = {.a = &da, .b = &db, .m = &m, .side_by_side = side, .selected = -1};
    for (size_t e = 0; e < m.n; e++) {
      double ax, ay, bx, by;
      if (!ts_matching_view_edge_ends(&d, 900, 400, e, &ax, &ay, &bx, &by)) continue;
      long got = ts_matching_view_edge_at(&d, 900, 400, ax, ay, 3);
      TS_CHECK(got >= 0); /* some edge ends there (points may coincide) */
    }
    /* far outside every frame: nothing */
    TS_CHECK(ts_matching_view_edge_at(&d, 900, 400, -100, -100, 3) == -1);
    /* the drawing runs */
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 900, 400);
    cairo_t *cr = cairo_create(s);
    ts_matching_view_draw(cr, &d, 900, 400);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
  }
  ts_matching_clear(&m);
  ts_diagram_clear(&da), ts_diagram_clear(&db);
  ts_cloud_clear(&a), ts_cloud_clear(&b);
}

int main(void) {
  TS_RUN(test_roundtrip);
  TS_RUN(test_malformed);
  TS_RUN(test_presets);
  TS_RUN(test_counts);
  TS_RUN(test_matching_pick);
  return ts_test_finish();
}
