/* cubical-bench-util.h — what the two engine-timing drivers share
 * (cubical-timing.c for 2D, cubical-timing3d.c for 3D/4D). */
#ifndef TS_BENCH_CUBICAL_BENCH_UTIL_H
#define TS_BENCH_CUBICAL_BENCH_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ph/diagram.h"

/* CPU time of this thread: on a shared machine, time spent descheduled
 * would otherwise swamp the differences being measured. */
static inline double bench_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* FNV-1a over each pair's fields (not their padding), summed over the
 * pairs so that the order they come in does not matter: equal hashes,
 * equal multisets of pairs. */
static inline uint64_t bench_diagram_hash(const TsDiagram *d) {
  uint64_t sum = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    unsigned char b[52];
    memcpy(b, &p->birth, 8);
    memcpy(b + 8, &p->death, 8);
    memcpy(b + 16, &p->dim, 4);
    memcpy(b + 20, p->birth_at, 16);
    memcpy(b + 36, p->death_at, 16);
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < sizeof b; k++) h = (h ^ b[k]) * 1099511628211ull;
    sum += h ^ (h >> 29);
  }
  return sum;
}

#endif
