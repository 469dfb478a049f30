/* barcode-view.h — a persistence diagram as bars [birth, death).
 *
 * Bars are grouped by dimension and sorted by birth or by lifespan
 * (longest first); essential classes run to the right edge with an arrow.
 * A teaching line at t crosses exactly the bars alive at t. Drawing is the
 * pure function ts_barcode_view_draw; TsBarcodeView adds click selection
 * (Ctrl toggles), tooltips and export. Its selection uses the same flags
 * as TsDiagramView, so the two stay in sync. */
#ifndef TS_UI_BARCODE_VIEW_H
#define TS_UI_BARCODE_VIEW_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "ph/diagram.h"
#include "plot/plot-common.h"

G_BEGIN_DECLS

typedef enum TsBarcodeSort { TS_BARCODE_SORT_BIRTH = 0, TS_BARCODE_SORT_LIFESPAN } TsBarcodeSort;

typedef struct TsBarcodeViewData {
  const TsDiagram *diagram;
  const size_t *order; /* bars top to bottom (indices into diagram); NULL: all in diagram order */
  size_t n_order;
  double x0, x1;           /* filtration range; x0 >= x1 fits the data */
  const uint8_t *selected; /* diagram->n flags, or NULL */
  double t;                /* teaching line; NAN: none */
  const char *title;
} TsBarcodeViewData;

/* The drawing order: by dimension, then by birth (ties: death) or by
 * decreasing lifespan. Only dimensions in the dims mask (0 = all).
 * Returns a g_malloc'd array of *n indices. */
size_t *ts_barcode_order(const TsDiagram *d, TsBarcodeSort sort, unsigned dims, size_t *n);

void ts_barcode_view_draw(cairo_t *cr, const TsBarcodeViewData *d, int w, int h);
/* Only the teaching line at t. */
void ts_barcode_view_draw_teaching(cairo_t *cr, const TsBarcodeViewData *d, int w, int h);
void ts_barcode_view_layout(const TsBarcodeViewData *d, int w, int h, TsPlotFrame *f);
/* The pair drawn at widget pixel (x, y), or -1. */
long ts_barcode_view_bar_at(const TsBarcodeViewData *d, int w, int h, double x, double y);

#define TS_TYPE_BARCODE_VIEW (ts_barcode_view_get_type())
G_DECLARE_FINAL_TYPE(TsBarcodeView, ts_barcode_view, TS, BARCODE_VIEW, GtkWidget)

GtkWidget *ts_barcode_view_new(void);
void ts_barcode_view_set_diagram(TsBarcodeView *self, const TsDiagram *d);
void ts_barcode_view_set_sort(TsBarcodeView *self, TsBarcodeSort sort);
void ts_barcode_view_set_dims(TsBarcodeView *self, unsigned dims);
void ts_barcode_view_set_title(TsBarcodeView *self, const char *title);
void ts_barcode_view_set_t(TsBarcodeView *self, double t);
void ts_barcode_view_set_selected(TsBarcodeView *self, const uint8_t *flags, gboolean emit);
const uint8_t *ts_barcode_view_get_selected(TsBarcodeView *self);
long ts_barcode_view_pick(TsBarcodeView *self, double x, double y);
gboolean ts_barcode_view_export(TsBarcodeView *self, const char *path, int w, int h, GError **error);
gboolean ts_barcode_view_export_csv(TsBarcodeView *self, const char *path, GError **error);

G_END_DECLS

#endif
