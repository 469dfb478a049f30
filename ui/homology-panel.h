/* homology-panel.h — the Homology panel: an image, its filtration, its
 * persistence diagram and barcode, and Kaji's label vectors, side by side.
 *
 * The image is loaded, filtered (core/image/filtration.h), its cubical
 * persistent homology computed (core/ph/cubical.h) and vectorised
 * (core/ph/vectorize.h) on a worker thread; a newer request supersedes a
 * stale one (its result is dropped), so the UI never freezes, even on 1024²
 * images. The teaching slider t shades the sublevel set {f <= t}, draws t
 * on the diagram, barcode and life curve and shows beta_0(t), beta_1(t);
 * selecting a point or a bar marks its birth (ring) and death (cross)
 * pixels on the image and the filtration. */
#ifndef TS_UI_HOMOLOGY_PANEL_H
#define TS_UI_HOMOLOGY_PANEL_H

#include <gtk/gtk.h>

#include "compare-view.h"
#include "image/image.h"
#include "plot/barcode-view.h"
#include "plot/diagram-view.h"
#include "plot/heatmap-view.h"
#include "plot/line-plot.h"

G_BEGIN_DECLS

#define TS_TYPE_HOMOLOGY_PANEL (ts_homology_panel_get_type())
G_DECLARE_FINAL_TYPE(TsHomologyPanel, ts_homology_panel, TS, HOMOLOGY_PANEL, GtkBox)

/* Computes the homology of a copy of img; name is shown as its title. */
void ts_homology_panel_set_image(TsHomologyPanel *self, const TsImage *img, const char *name);
/* Loads path on the worker and computes; errors arrive as "message". */
void ts_homology_panel_open_file(TsHomologyPanel *self, const char *path);
gboolean ts_homology_panel_has_image(TsHomologyPanel *self);
/* TRUE while a computation is in flight ("busy" property). */
gboolean ts_homology_panel_is_busy(TsHomologyPanel *self);
/* Number of results shown so far. */
guint ts_homology_panel_get_generation(TsHomologyPanel *self);
void ts_homology_panel_set_t(TsHomologyPanel *self, double t);
/* beta_k(t) as shown. */
int ts_homology_panel_get_betti(TsHomologyPanel *self, int k);
/* Selects pair i of the diagram (-1 clears), as a click would. */
void ts_homology_panel_select_pair(TsHomologyPanel *self, long i);
void ts_homology_panel_toggle_lifetime(TsHomologyPanel *self);
void ts_homology_panel_set_filtration(TsHomologyPanel *self, int index); /* 0 grey .. 3 gradient */

TsDiagramView *ts_homology_panel_get_diagram_view(TsHomologyPanel *self);
TsBarcodeView *ts_homology_panel_get_barcode_view(TsHomologyPanel *self);
TsHeatmapView *ts_homology_panel_get_image_view(TsHomologyPanel *self);
TsHeatmapView *ts_homology_panel_get_field_view(TsHomologyPanel *self);
TsLinePlot *ts_homology_panel_get_life_plot(TsHomologyPanel *self);

/* Comparing with a second image (the compare view replaces the plots while
 * one is set; the first image and the sidebar's options drive it). */
void ts_homology_panel_set_second_image(TsHomologyPanel *self, const TsImage *img, const char *name);
void ts_homology_panel_open_second_file(TsHomologyPanel *self, const char *path);
void ts_homology_panel_clear_second(TsHomologyPanel *self);
TsCompareView *ts_homology_panel_get_compare_view(TsHomologyPanel *self);

/* Signal "message" (const char *text): errors and notes for a toast.
 * Signal "pick-second": the user asked to pick the second image among the
 * Generate panel's previews (the window switches panels). */

G_END_DECLS

#endif
