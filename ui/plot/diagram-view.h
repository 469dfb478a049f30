/* diagram-view.h — a persistence diagram as a scatter plot.
 *
 * One colour per dimension, the diagonal, an infinity lane at the top for
 * essential classes, and a lifetime mode (birth vs persistence). The
 * drawing is the pure function ts_diagram_view_draw; TsDiagramView wraps it
 * with zoom (scroll), pan (middle drag or Shift+drag), click and rubber-band
 * selection, hover tooltips, and export (right click). Points are splatted
 * into a raster and the plot is cached as a render node, so 300k points stay
 * interactive: hover and rubber band draw on top of the cached node. */
#ifndef TS_UI_DIAGRAM_VIEW_H
#define TS_UI_DIAGRAM_VIEW_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "ph/diagram.h"
#include "plot/plot-common.h"

G_BEGIN_DECLS

typedef struct TsDiagramViewData {
  const TsDiagram *diagram; /* may be NULL */
  int lifetime;             /* 1: y = death - birth instead of death */
  unsigned dims;            /* bit k shows dimension k; 0 shows all */
  double x0, x1, y0, y1;    /* visible range; x0 >= x1 fits the data */
  const uint8_t *selected;  /* diagram->n flags, or NULL */
  double t;                 /* teaching filtration value; NAN: none */
  const char *title;
} TsDiagramViewData;

/* Height of the infinity lane in pixels. */
#define TS_DIAGRAM_INF_LANE 22.0

void ts_diagram_view_draw(cairo_t *cr, const TsDiagramViewData *d, int w, int h);
/* Only the teaching decoration of t (shaded quadrant, dashed lines). */
void ts_diagram_view_draw_teaching(cairo_t *cr, const TsDiagramViewData *d, int w, int h);
/* The frame (data range fitted if asked) and the y of the infinity lane. */
void ts_diagram_view_layout(const TsDiagramViewData *d, int w, int h, TsPlotFrame *f, double *inf_y);
/* Where pair i is drawn; 0 if it is hidden (dimension off). */
int ts_diagram_view_point(const TsDiagramViewData *d, const TsPlotFrame *f, double inf_y, size_t i, double *px,
                          double *py);

#define TS_TYPE_DIAGRAM_VIEW (ts_diagram_view_get_type())
G_DECLARE_FINAL_TYPE(TsDiagramView, ts_diagram_view, TS, DIAGRAM_VIEW, GtkWidget)

GtkWidget *ts_diagram_view_new(void);
/* Copies d (NULL clears); the selection is cleared and the view refitted. */
void ts_diagram_view_set_diagram(TsDiagramView *self, const TsDiagram *d);
const TsDiagram *ts_diagram_view_get_diagram(TsDiagramView *self);
void ts_diagram_view_set_lifetime(TsDiagramView *self, gboolean lifetime);
void ts_diagram_view_set_dims(TsDiagramView *self, unsigned dims);
void ts_diagram_view_set_title(TsDiagramView *self, const char *title);
void ts_diagram_view_set_t(TsDiagramView *self, double t);
void ts_diagram_view_reset_view(TsDiagramView *self);
/* Zooms by factor around data point (cx, cy) (factor < 1 zooms in; NAN:
 * the centre of the view). */
void ts_diagram_view_zoom(TsDiagramView *self, double factor, double cx, double cy);
/* Selection: n flags (or NULL to clear). Emits "selection-changed" only
 * when emit is TRUE (so two synced views don't ping-pong). */
void ts_diagram_view_set_selected(TsDiagramView *self, const uint8_t *flags, gboolean emit);
const uint8_t *ts_diagram_view_get_selected(TsDiagramView *self);
/* Selects the pairs drawn inside a rectangle of widget pixels (emits). */
size_t ts_diagram_view_select_rect(TsDiagramView *self, double x0, double y0, double x1, double y1);
/* Where pair i is drawn in widget pixels now; FALSE if hidden. */
gboolean ts_diagram_view_get_point_position(TsDiagramView *self, size_t i, double *x, double *y);
/* Nearest pair within radius pixels of (x, y), or -1. */
long ts_diagram_view_pick(TsDiagramView *self, double x, double y, double radius);
gboolean ts_diagram_view_export(TsDiagramView *self, const char *path, int w, int h, GError **error);
gboolean ts_diagram_view_export_csv(TsDiagramView *self, const char *path, GError **error);

G_END_DECLS

#endif
