/* A test job that writes a run: metric "x" = i at step i for i < N (N = 0:
 * forever), flushing every F rows and printing "committed K" after each
 * flush, so a test knows what must survive a kill -9.
 *   store-writer STORE N F [SLEEP_US] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "run/store.h"

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: store-writer STORE N FLUSH_EVERY [SLEEP_US]\n");
    return 2;
  }
  long n = atol(argv[2]), every = atol(argv[3]);
  long sleep_us = argc > 4 ? atol(argv[4]) : 0;
  TsError err = {0};
  TsStore *s;
  if (ts_store_open(argv[1], TS_STORE_WRITE, &s, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int64_t run;
  if (ts_store_run_begin(s, "test", "writer", "{\"n\":1,\"what\":\"store test\"}", &run, &err)) goto fail;
  printf("run %lld\n", (long long)run);
  fflush(stdout);
  double curve[6] = {0, 1, 2, 3, 4, 5};
  if (ts_store_series(s, run, 0, "curve", curve, 3, 2, &err)) goto fail;
  if (ts_store_artifact(s, run, "output", "/tmp/store-writer-output", &err)) goto fail;
  for (long i = 0; n == 0 || i < n; i++) {
    if (ts_store_metric(s, run, i, i / 100, "x", (double)i, &err)) goto fail;
    if (ts_store_progress(s, run, i + 1, n, &err)) goto fail;
    if ((i + 1) % every == 0) {
      if (ts_store_flush(s, &err)) goto fail;
      printf("committed %ld\n", i + 1);
      fflush(stdout);
    }
    if (sleep_us) usleep((useconds_t)sleep_us);
  }
  if (ts_store_run_end(s, run, TS_RUN_FINISHED, NULL, &err)) goto fail;
  ts_store_close(s);
  return 0;
fail:
  fprintf(stderr, "%s\n", err.message);
  ts_store_close(s);
  return 1;
}
