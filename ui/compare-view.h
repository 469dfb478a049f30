/* compare-view.h — two images compared by the distance between their
 * persistence diagrams.
 *
 * Both images go through the same filtration and cubical complex (the
 * Homology panel's options); their diagrams are shown side by side (or
 * overlaid) with the bottleneck or Wasserstein-2 matching drawn between
 * them, the distance above, and the birth (ring) and death (cross) pixels of
 * the most expensive matched pairs marked on both images, one colour per
 * matched pair so a class on one image can be found on the other. Clicking
 * an edge marks that pair alone. All work runs on a worker; the newest
 * request wins. */
#ifndef TS_UI_COMPARE_VIEW_H
#define TS_UI_COMPARE_VIEW_H

#include <gtk/gtk.h>

#include "image/filtration.h"
#include "image/image.h"
#include "ph/cubical.h"
#include "plot/heatmap-view.h"
#include "plot/matching-view.h"

G_BEGIN_DECLS

/* How many of the costliest matched pairs get their pixels marked. */
#define TS_COMPARE_MARKED 8

typedef enum TsCompareMetric { TS_COMPARE_BOTTLENECK = 0, TS_COMPARE_W2 } TsCompareMetric;

#define TS_TYPE_COMPARE_VIEW (ts_compare_view_get_type())
G_DECLARE_FINAL_TYPE(TsCompareView, ts_compare_view, TS, COMPARE_VIEW, GtkBox)

GtkWidget *ts_compare_view_new(void);
/* The second image: a copy of img, or a file loaded on the worker at the
 * next compute. */
void ts_compare_view_set_second_image(TsCompareView *self, const TsImage *img, const char *name);
void ts_compare_view_set_second_file(TsCompareView *self, const char *path);
gboolean ts_compare_view_has_second(TsCompareView *self);
void ts_compare_view_clear_second(TsCompareView *self);
const char *ts_compare_view_get_second_name(TsCompareView *self);
/* Recomputes both diagrams and the matching for image a (copied) with these options. */
void ts_compare_view_compute(TsCompareView *self, const TsImage *a, const char *name_a, const TsFiltrationOptions *fo,
                             const TsCubicalOptions *co);
void ts_compare_view_set_metric(TsCompareView *self, TsCompareMetric metric);
/* 0 or 1: that dimension; -1: every dimension. */
void ts_compare_view_set_dim(TsCompareView *self, int dim);

gboolean ts_compare_view_is_busy(TsCompareView *self);
guint ts_compare_view_get_generation(TsCompareView *self);
/* The distance shown (NAN before the first result). */
double ts_compare_view_get_distance(TsCompareView *self);
const TsDiagram *ts_compare_view_get_diagram(TsCompareView *self, int which); /* 0: A, 1: B */
TsMatchingView *ts_compare_view_get_matching_view(TsCompareView *self);
TsHeatmapView *ts_compare_view_get_image_view(TsCompareView *self, int which);

/* Signals: "message" (const char *text) for errors; notify::busy. */

G_END_DECLS

#endif
