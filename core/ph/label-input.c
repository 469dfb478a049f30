/* label-input.c — diagrams for labels (see label-input.h). */
#include "ph/label-input.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/image.h"
#include "ph/cubical.h"
#include "ph/diagram-io.h"

void ts_label_input_options_default(TsLabelInputOptions *o) {
  memset(o, 0, sizeof *o);
  ts_filtration_options_default(&o->filtration);
  o->filtration.kind = TS_FILT_SIGNED_DISTANCE;
}

int ts_label_input_set_filtration(TsLabelInputOptions *o, const char *name) {
  int k = ts_filtration_parse(name);
  if (k < 0) return -1;
  o->filtration.kind = (TsFiltrationKind)k;
  return 0;
}

int ts_label_input_signed(const TsLabelInputOptions *o) {
  return o->filtration.kind == TS_FILT_SIGNED_DISTANCE && !o->filtration.edges;
}

int ts_label_input_is_image(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot) return 0;
  static const char *const ext[] = {"jpg", "jpeg", "png", "pgm", "ppm", "pnm"};
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
    if (strcasecmp(dot + 1, ext[i]) == 0) return 1;
  return 0;
}

TsStatus ts_label_input_image_diagram(const TsImage *img, const TsLabelInputOptions *o, TsDiagram *d, TsError *err) {
  ts_diagram_init(d);
  double *field = NULL;
  int w = 0, h = 0, constant = 0;
  TsStatus st = ts_filtration_apply(img, &o->filtration, &field, &w, &h, &constant, err);
  if (st) return st;
  if (constant) {
    d->maxdim = 1; /* Kaji's pipeline: no threshold, an empty diagram */
  } else {
    TsCubicalOptions co;
    ts_cubical_options_default(&co);
    co.construction = TS_CONSTRUCTION_V;
    co.maxdim = 1;
    size_t shape[2] = {(size_t)h, (size_t)w};
    st = ts_cubical_ph(field, 2, shape, &co, d, err);
  }
  free(field);
  return st;
}

TsStatus ts_label_input_diagram(const char *path, const TsLabelInputOptions *o, TsDiagram *d, TsError *err) {
  ts_diagram_init(d);
  if (!ts_label_input_is_image(path)) return ts_diagram_read(path, TS_DGM_AUTO, d, err);
  TsImage img = {0};
  TsStatus st = ts_image_load(path, &img, err);
  if (st) return st;
  st = ts_label_input_image_diagram(&img, o, d, err);
  ts_image_clear(&img);
  if (st) ts_error_prefix(err, "'%s'", path);
  return st;
}
