/* label-input.c — diagrams for labels (see label-input.h). */
#include "ph/label-input.h"

#include <string.h>
#include <strings.h>

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

TsStatus ts_label_input_diagram(const char *path, const TsLabelInputOptions *o, TsDiagram *d, TsError *err) {
  (void)o;
  ts_diagram_init(d);
  if (ts_label_input_is_image(path))
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "'%s': images need the image codecs and the cubical engine, not in this build yet", path);
  return ts_diagram_read(path, TS_DGM_AUTO, d, err);
}
