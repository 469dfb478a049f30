/* clock.h — time and memory readings for progress, run records and benchmarks. */
#ifndef TS_BASE_CLOCK_H
#define TS_BASE_CLOCK_H

#include <stddef.h>

/* Monotonic seconds, for durations and rates. */
double ts_clock_monotonic(void);
/* Seconds since the Unix epoch, for timestamps stored in runs. */
double ts_clock_wall(void);
/* Peak resident set size of this process image in bytes (0 if unknown). */
size_t ts_peak_rss_bytes(void);

#endif
