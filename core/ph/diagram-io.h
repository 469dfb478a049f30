/* diagram-io.h — persistence diagrams to and from files.
 *
 * Formats (picked from the file name, or sniffed from the contents when the
 * name says nothing):
 *   CSV    Toposcope's own: a header line `dim,birth,death` optionally
 *          followed by location columns — `birth_x,birth_y,..,death_x,..`
 *          for cubical cells (x = array axis 0, as CubicalRipser) or
 *          `birth_i,birth_j,death_i,death_j` for Rips edges — then one pair
 *          per line; an essential class has death `inf`.
 *   TEXT   GUDHI / ripser style text: lines `birth death`, `dim birth death`
 *          or GUDHI's `field dim birth death`, and ripser's console output
 *          ("persistence intervals in dim 1:" then " [0.5,2)" lines, with
 *          " [0, )" or " [0,inf)" for an essential class). '#' comments and
 *          blank lines are skipped.
 *   NPY    a float64 (or float32) 2-D .npy array: n x 2 (birth, death; dim 0),
 *          n x 3 (dim, birth, death) or CubicalRipser's n x 9 (dim, birth,
 *          death, x1, y1, z1, x2, y2, z2). Deaths >= DBL_MAX (cripser's
 *          stand-in for infinity) read as +inf.
 *   DIPHA  DIPHA's persistence-diagram binary: int64 magic 8067171840,
 *          int64 type 2, int64 n, then n x (int64 dim, float64 birth,
 *          float64 death); an essential class is stored with dim -dim-1.
 *
 * Every reader checks what it reads; a malformed file fails with
 * TS_ERR_FORMAT and a message naming the file and the line (or the byte
 * offset for binary formats). Nothing is printed. */
#ifndef TS_PH_DIAGRAM_IO_H
#define TS_PH_DIAGRAM_IO_H

#include <stddef.h>

#include "base/error.h"
#include "ph/diagram.h"

typedef enum TsDiagramFormat {
  TS_DGM_AUTO = 0, /* by extension, else by sniffing */
  TS_DGM_CSV,
  TS_DGM_TEXT,
  TS_DGM_NPY,
  TS_DGM_DIPHA
} TsDiagramFormat;

/* "csv", "text", "npy", "dipha" (and "auto"). */
const char *ts_diagram_format_name(TsDiagramFormat f);
/* Parses a name as above; -1 if unknown. */
int ts_diagram_format_parse(const char *name);
/* By extension: .csv, .txt/.dgm/.pers/.out, .npy, .bin/.dipha; AUTO if none fits. */
TsDiagramFormat ts_diagram_format_from_name(const char *path);

/* Reads path into out (initialised by the call; cleared on failure). */
TsStatus ts_diagram_read(const char *path, TsDiagramFormat fmt, TsDiagram *out, TsError *err);
/* Parses a text buffer (CSV or TEXT, AUTO sniffs); `name` is used in messages. */
TsStatus ts_diagram_parse_text(const char *text, size_t len, const char *name, TsDiagramFormat fmt, TsDiagram *out,
                               TsError *err);
/* Writes d. CSV keeps locations; NPY writes n x 9 when d has cell locations
 * (CubicalRipser's layout), else n x 3; TEXT writes `dim birth death`. */
TsStatus ts_diagram_write(const char *path, TsDiagramFormat fmt, const TsDiagram *d, TsError *err);

/* A tiny .npy reader/writer for 2-D float64 arrays (C order), also used by
 * the label cache tests. ts_npy_read_f64 converts float32 and integer
 * arrays; a 1-D array reads as n x 1. *data is malloc'd. */
TsStatus ts_npy_read_f64(const char *path, double **data, size_t *rows, size_t *cols, TsError *err);
TsStatus ts_npy_write_f64(const char *path, const double *data, size_t rows, size_t cols, TsError *err);

#endif
