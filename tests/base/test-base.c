/* The foundation: errors, the thread pool, random streams, JSON, arrays. */
#include <stdatomic.h>
#include <stdint.h>

#include "base/array.h"
#include "base/error.h"
#include "base/json.h"
#include "base/pool.h"
#include "base/rng.h"
#include "base/strlist.h"
#include "ts-test.h"

static void test_error_messages(void) {
  TsError err = {0};
  TS_CHECK(ts_error_set(&err, TS_ERR_FORMAT, "cannot read '%s': %s", "x.jpg", "not a JPEG file") == TS_ERR_FORMAT);
  TS_CHECK(strcmp(err.message, "cannot read 'x.jpg': not a JPEG file") == 0);
  ts_error_prefix(&err, "ph");
  TS_CHECK(strcmp(err.message, "ph: cannot read 'x.jpg': not a JPEG file") == 0);
  TS_CHECK(ts_error_set(NULL, TS_ERR_IO, "ignored") == TS_ERR_IO);
  size_t out;
  TS_CHECK(ts_mul_size(SIZE_MAX / 2, 3, &out) == -1);
  TS_CHECK(ts_mul_size(1000, 1000, &out) == 0 && out == 1000000);
  TS_CHECK(ts_alloc_array(SIZE_MAX / 4, 8, "pixels", &err) == NULL);
  TS_CHECK(err.code == TS_ERR_NOMEM && strstr(err.message, "pixels") != NULL);
}

typedef struct {
  atomic_ullong sum;
  atomic_int calls;
  int max_worker;
  int nested;
  TsPool *pool;
} SumCtx;

static void sum_task(void *ctx, size_t b, size_t e, int worker) {
  SumCtx *c = ctx;
  unsigned long long s = 0;
  for (size_t i = b; i < e; i++) s += i;
  atomic_fetch_add(&c->sum, s);
  atomic_fetch_add(&c->calls, 1);
  TS_CHECK(worker >= 0 && worker < c->max_worker);
  if (c->nested) {
    SumCtx inner = {.max_worker = c->max_worker};
    atomic_init(&inner.sum, 0);
    atomic_init(&inner.calls, 0);
    ts_pool_for(c->pool, 10, 1, sum_task, &inner); /* must run inline */
    TS_CHECK(atomic_load(&inner.sum) == 45);
  }
}

static void test_pool(void) {
  TsError err = {0};
  for (int threads = 1; threads <= 4; threads++) {
    TsPool *pool = ts_pool_new(threads, &err);
    TS_CHECK(pool != NULL);
    TS_CHECK(ts_pool_threads(pool) == threads);
    for (size_t n = 0; n < 2000; n += 397) {
      for (int nested = 0; nested < 2; nested++) {
        SumCtx c = {.max_worker = threads, .nested = nested, .pool = pool};
        atomic_init(&c.sum, 0);
        atomic_init(&c.calls, 0);
        ts_pool_for(pool, n, nested ? 50 : 0, sum_task, &c);
        TS_CHECK(atomic_load(&c.sum) == (unsigned long long)n * (n ? n - 1 : 0) / 2);
      }
    }
    ts_pool_free(pool);
  }
  SumCtx c = {.max_worker = 1};
  atomic_init(&c.sum, 0);
  atomic_init(&c.calls, 0);
  ts_pool_for(NULL, 100, 0, sum_task, &c);
  TS_CHECK(atomic_load(&c.sum) == 4950 && atomic_load(&c.calls) == 1);
  TS_CHECK(ts_cpu_count() >= 1);
}

static void test_rng_streams(void) {
  TsRng a, b, c;
  ts_rng_init(&a, 42, 7);
  ts_rng_init(&b, 42, 7);
  ts_rng_init(&c, 42, 8);
  int same = 1, differ = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = ts_rng_u64(&a), y = ts_rng_u64(&b), z = ts_rng_u64(&c);
    same &= x == y;
    differ += x != z;
  }
  TS_CHECK(same);
  TS_CHECK(differ > 990);
  /* moments of uniform and normal */
  double s = 0, s2 = 0, ns = 0, ns2 = 0;
  const int N = 200000;
  for (int i = 0; i < N; i++) {
    double u = ts_rng_uniform(&a);
    TS_CHECK(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    double g = ts_rng_normal(&a);
    ns += g;
    ns2 += g * g;
  }
  TS_CHECK(fabs(s / N - 0.5) < 0.005);
  TS_CHECK(fabs(s2 / N - 1.0 / 3) < 0.005);
  TS_CHECK(fabs(ns / N) < 0.01);
  TS_CHECK(fabs(ns2 / N - 1) < 0.02);
  int hist[7] = {0};
  for (int i = 0; i < 70000; i++) hist[ts_rng_below(&a, 7)]++;
  for (int k = 0; k < 7; k++) TS_CHECK(abs(hist[k] - 10000) < 500);
  uint32_t v[50];
  for (uint32_t i = 0; i < 50; i++) v[i] = i;
  ts_rng_shuffle_u32(&a, v, 50);
  int seen[50] = {0};
  for (int i = 0; i < 50; i++) seen[v[i]]++;
  for (int i = 0; i < 50; i++) TS_CHECK(seen[i] == 1);
}

static void test_json_roundtrip(void) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "name", "a \"quoted\"\\ name\n");
  ts_json_kv_number(&j, "alpha", 0.125);
  ts_json_kv_int(&j, "n", -12345678901LL);
  ts_json_kv_bool(&j, "ok", 1);
  ts_json_kv_number(&j, "nan", NAN);
  ts_json_key(&j, "range");
  ts_json_array_begin(&j);
  ts_json_number(&j, 1);
  ts_json_number(&j, 2);
  ts_json_array_end(&j);
  ts_json_key(&j, "nested");
  ts_json_object_begin(&j);
  ts_json_kv_int(&j, "n", 5);
  ts_json_object_end(&j);
  ts_json_kv_int(&j, "last", 9);
  ts_json_object_end(&j);
  const char *t = ts_json_text(&j);
  TS_CHECK(t != NULL);
  TsError err = {0};
  char name[64];
  double alpha, nan_v;
  int64_t n, last;
  TS_CHECK(ts_json_get_string(t, "name", name, sizeof name, &err) == TS_OK);
  TS_CHECK(strcmp(name, "a \"quoted\"\\ name\n") == 0);
  TS_CHECK(ts_json_get_number(t, "alpha", &alpha, &err) == TS_OK && alpha == 0.125);
  TS_CHECK(ts_json_get_int(t, "n", &n, &err) == TS_OK && n == -12345678901LL);
  TS_CHECK(ts_json_get_number(t, "nan", &nan_v, &err) == TS_OK && isnan(nan_v));
  /* the nested "n" must not shadow the top-level one; "last" follows nested values */
  TS_CHECK(ts_json_get_int(t, "last", &last, &err) == TS_OK && last == 9);
  const char *raw;
  size_t len;
  TS_CHECK(ts_json_get_raw(t, "range", &raw, &len, &err) == TS_OK && len == 5 && !strncmp(raw, "[1,2]", 5));
  TS_CHECK(ts_json_get_int(t, "missing", &n, &err) == TS_ERR_INVALID && strstr(err.message, "missing"));
  TS_CHECK(ts_json_get_int("{\"a\": [1, 2", "b", &n, &err) == TS_ERR_FORMAT);
  TS_CHECK(ts_json_get_int("[1]", "a", &n, &err) == TS_ERR_FORMAT);
  TS_CHECK(ts_json_get_int("{}", "a", &n, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_json_get_int("{\"a\":\"x\"}", "a", &n, &err) == TS_ERR_FORMAT);
  /* members in order: the nested object is one member, its "n" is skipped */
  const char *keys[] = {"name", "alpha", "n", "ok", "nan", "range", "nested", "last"};
  const char *key;
  size_t klen, m = 0;
  while (ts_json_member_at(t, m, &key, &klen, &raw, &len, &err) == TS_OK) {
    TS_CHECK(m < 8 && klen == strlen(keys[m]) && !strncmp(key, keys[m], klen));
    m++;
  }
  TS_CHECK(m == 8 && err.code == TS_ERR_INVALID);
  TS_CHECK(ts_json_member_at(t, 6, &key, &klen, &raw, &len, &err) == TS_OK && len == 7 && !strncmp(raw, "{\"n\":5}", 7));
  TS_CHECK(ts_json_member_at("{}", 0, &key, &klen, &raw, &len, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_json_member_at("{\"a\":", 0, &key, &klen, &raw, &len, &err) == TS_ERR_FORMAT);
  char *pretty = ts_json_pretty(t);
  TS_CHECK(pretty && strstr(pretty, "\n  \"alpha\": 0.125"));
  free(pretty);
  ts_json_clear(&j);
}

static void test_array(void) {
  TsError err = {0};
  TsArray a;
  size_t shape[3] = {2, 3, 4};
  TS_CHECK(ts_array_alloc(&a, 3, shape, TS_F32, &err) == TS_OK);
  TS_CHECK(ts_array_count(&a) == 24);
  ((float *)a.data)[5] = 2.5f;
  double *v;
  TS_CHECK(ts_array_to_f64(&a, &v, &err) == TS_OK && v[5] == 2.5 && v[4] == 0);
  free(v);
  ((float *)a.data)[7] = NAN;
  TS_CHECK(ts_array_to_f64(&a, &v, &err) == TS_ERR_INVALID && strstr(err.message, "NaN"));
  ts_array_clear(&a);
  size_t big[2] = {SIZE_MAX / 2, 4};
  TS_CHECK(ts_array_alloc(&a, 2, big, TS_U8, &err) == TS_ERR_NOMEM);
  size_t five[5] = {1, 1, 1, 1, 1};
  TS_CHECK(ts_array_alloc(&a, 5, five, TS_U8, &err) == TS_ERR_UNSUPPORTED);
}

static void test_list_dir(void) {
  char dir[] = "/tmp/ts-listdir-XXXXXX";
  TS_CHECK(mkdtemp(dir) != NULL);
  const char *names[] = {"b.jpg", "a.png", ".hidden", "c"};
  for (int i = 0; i < 4; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "w");
    TS_CHECK(f != NULL);
    if (f) fclose(f);
  }
  TsStrList l = {0};
  TsError err = {0};
  TS_CHECK(ts_list_dir(dir, &l, &err) == TS_OK);
  TS_CHECK(l.n == 3 && !strcmp(l.v[0], "a.png") && !strcmp(l.v[1], "b.jpg") && !strcmp(l.v[2], "c"));
  for (int i = 0; i < 4; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    remove(path);
  }
  remove(dir);
  TS_CHECK(ts_list_dir(dir, &l, &err) == TS_ERR_IO && l.n == 0 && strstr(err.message, dir));
  ts_strlist_clear(&l);
}

int main(void) {
  TS_RUN(test_error_messages);
  TS_RUN(test_pool);
  TS_RUN(test_rng_streams);
  TS_RUN(test_json_roundtrip);
  TS_RUN(test_array);
  TS_RUN(test_list_dir);
  return ts_test_finish();
}
