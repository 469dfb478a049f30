/* Polls a run's metric "x" while a writer runs: every row must arrive in
 * order (x = 0, 1, 2, … with no gap) and no read may fail.
 *   store-reader STORE RUN EXPECT   -> exit 0 when EXPECT rows were seen */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "run/store.h"

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  long run = atol(argv[2]), expect = atol(argv[3]);
  TsError err = {0};
  TsStore *s;
  if (ts_store_open(argv[1], TS_STORE_READ, &s, &err)) {
    fprintf(stderr, "open: %s\n", err.message);
    return 1;
  }
  int64_t cursor = 0;
  long seen = 0, polls = 0;
  double t0 = ts_clock_monotonic();
  while (seen < expect) {
    TsMetricRow *rows;
    size_t n;
    if (ts_store_read_metric(s, run, "x", &cursor, &rows, &n, &err)) {
      fprintf(stderr, "read after %ld rows: %s\n", seen, err.message);
      ts_store_close(s);
      return 1;
    }
    for (size_t i = 0; i < n; i++, seen++) {
      if (rows[i].value != (double)seen || rows[i].step != seen) {
        fprintf(stderr, "row %ld has x=%g step=%lld\n", seen, rows[i].value, (long long)rows[i].step);
        free(rows);
        ts_store_close(s);
        return 1;
      }
    }
    free(rows);
    polls++;
    if (ts_clock_monotonic() - t0 > 60) {
      fprintf(stderr, "timeout: saw %ld of %ld rows\n", seen, expect);
      ts_store_close(s);
      return 1;
    }
    usleep(2000);
  }
  printf("saw %ld rows in %ld polls\n", seen, polls);
  ts_store_close(s);
  return 0;
}
