/* label-input.h — from a file to the diagram a PH label is computed from.
 *
 * A diagram file (any format diagram-io.h reads) is read as it is; an image
 * (JPEG, PNG, PGM/PPM) goes through Kaji's label pipeline (REFERENCE.md §2):
 * optional resize, grey, Otsu, the chosen filtration (signed distance by
 * default, scaled by 256 / height), then cubical PH in the V-construction,
 * H0 and H1, sublevel sets. A constant image gives an empty diagram. */
#ifndef TS_PH_LABEL_INPUT_H
#define TS_PH_LABEL_INPUT_H

#include "base/error.h"
#include "image/filtration.h"
#include "image/image.h"
#include "ph/diagram.h"

typedef struct TsLabelInputOptions {
  TsFiltrationOptions filtration;
} TsLabelInputOptions;

void ts_label_input_options_default(TsLabelInputOptions *o);
/* Sets the filtration by name ("signed-distance", "distance", ...); -1 if unknown. */
int ts_label_input_set_filtration(TsLabelInputOptions *o, const char *name);
/* 1 when births range over [-max_life, max_life] (signed distance without
 * Kaji's -g), else 0 (births from 0): Kaji's min_birth rule. */
int ts_label_input_signed(const TsLabelInputOptions *o);
/* 1 if the file name looks like a picture rather than a diagram. */
int ts_label_input_is_image(const char *path);

/* The diagram of a picture already in memory (what ts_label_input_diagram
 * computes for an image file), into d (initialised by the call). */
TsStatus ts_label_input_image_diagram(const TsImage *img, const TsLabelInputOptions *o, TsDiagram *d, TsError *err);
/* Reads or computes the diagram of path into d (initialised by the call). */
TsStatus ts_label_input_diagram(const char *path, const TsLabelInputOptions *o, TsDiagram *d, TsError *err);

#endif
