/* demo.h — `toposcope demo`: a short end-to-end run of the core on small
 * data. Each capability adds one step (demo-steps.def); steps run in order
 * and share this context, so later steps use what earlier ones made. */
#ifndef TS_APP_DEMO_H
#define TS_APP_DEMO_H

#include <stdio.h>

#include "run/store.h"

typedef struct TsDemo {
  const char *workdir; /* a fresh folder the steps write into */
  TsStore *store;      /* the store the demo records its runs in (may be NULL) */
  const char *store_path;
  int threads;
  FILE *out;           /* where steps say what they did */
  /* Filled by steps for the ones after them. */
  char images_dir[4096]; /* generate: folder with train/ and val/ */
  char labels_path[4096];/* label: the label cache */
} TsDemo;

/* A step returns 0 on success, or prints its error and returns 1. */
#define TS_DEMO_STEP(name, fn) int fn(TsDemo *demo);
#include "demo-steps.def"
#undef TS_DEMO_STEP

#endif
