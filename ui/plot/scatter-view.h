/* scatter-view.h — labelled 2D points (latent codes coloured by class).
 *
 * One colour per label (ten, GNOME-like, then repeating), a legend of the
 * labels present, axes fitted to the points (or given), and one label drawn
 * bold with the others faded. Drawing is the pure function
 * ts_scatter_view_draw; TsScatterView adds a click that picks the label of
 * the nearest point ("label-picked"), tooltips and export. */
#ifndef TS_UI_SCATTER_VIEW_H
#define TS_UI_SCATTER_VIEW_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "plot/plot-common.h"

G_BEGIN_DECLS

typedef struct TsScatterViewData {
  const double *xy;   /* n points, x and y interleaved */
  const int32_t *label; /* n labels >= 0 (NULL: all 0) */
  size_t n;
  int highlight;        /* a label drawn over faded others, or -1 */
  double x0, x1, y0, y1; /* x0 >= x1: fit */
  const char *title, *xlabel, *ylabel;
  const char *const *label_names; /* NULL: "0", "1", ... */
} TsScatterViewData;

void ts_scatter_color(int label, double rgb[3]);
void ts_scatter_view_draw(cairo_t *cr, const TsScatterViewData *d, int w, int h);
/* The point nearest (px, py) within radius pixels, or -1. */
long ts_scatter_view_pick(const TsScatterViewData *d, int w, int h, double px, double py, double radius);

#define TS_TYPE_SCATTER_VIEW (ts_scatter_view_get_type())
G_DECLARE_FINAL_TYPE(TsScatterView, ts_scatter_view, TS, SCATTER_VIEW, GtkWidget)

GtkWidget *ts_scatter_view_new(void);
/* Copies n points and labels (NULL clears). */
void ts_scatter_view_set_points(TsScatterView *self, const double *xy, const int32_t *label, size_t n);
size_t ts_scatter_view_get_n(TsScatterView *self);
void ts_scatter_view_set_labels(TsScatterView *self, const char *title, const char *xlabel, const char *ylabel);
void ts_scatter_view_set_highlight(TsScatterView *self, int label);
/* Fixes the axes (x0 >= x1: fit the points again). */
void ts_scatter_view_set_range(TsScatterView *self, double x0, double x1, double y0, double y1);
gboolean ts_scatter_view_export(TsScatterView *self, const char *path, int w, int h, GError **error);

/* Signal "label-picked" (gint label): a click near a point of that label. */

G_END_DECLS

#endif
