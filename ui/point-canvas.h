/* point-canvas.h — the Playground's canvas: two 2D point clouds, one of
 * them editable, and the Rips complex of the edited one at a scale r.
 *
 * The edited cloud is drawn in solid dots, the other in faint rings. At r
 * the complex is drawn as it is built: a disc of radius r/2 around each
 * point (two discs touch exactly when their points are r apart), an edge
 * between points at distance <= r, and a filled triangle where all three
 * edges are there. Editing: click empty space to add a point, drag a point
 * to move it (a selected group moves together), Shift/Ctrl-click to select,
 * Shift-drag on empty space to select by rubber band, Delete or a right
 * click to remove. The view fits both clouds and stays put while dragging.
 * Drawing is the pure function ts_point_canvas_draw (exports and tests). */
#ifndef TS_UI_POINT_CANVAS_H
#define TS_UI_POINT_CANVAS_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "playground-state.h"

G_BEGIN_DECLS

/* Above this many triangles at r they are not drawn (the complex is then
 * a solid blob anyway); the count is still reported. */
#define TS_POINT_CANVAS_MAX_TRIANGLES 40000

typedef struct TsPointCanvasData {
  const TsCloud *cloud[2]; /* 0: the shaped cloud, 1: the target */
  int active;              /* which one is edited and has its complex drawn */
  double r;                /* NAN: no complex */
  const uint8_t *selected; /* cloud[active]->n flags, or NULL */
  double x0, x1, y0, y1;   /* data window; x0 >= x1: fit */
  const char *title;
  /* the rubber band, in pixels (w <= 0: none) */
  double band_x, band_y, band_w, band_h;
  /* a pair of points to emphasise (a bar's birth or death edge), or -1 */
  int hl_i, hl_j;
} TsPointCanvasData;

/* Counts at r for the edited cloud (edges and triangles of the complex). */
typedef struct TsPointCanvasCounts {
  size_t edges, triangles;
} TsPointCanvasCounts;

void ts_point_canvas_draw(cairo_t *cr, const TsPointCanvasData *d, int w, int h);
void ts_point_canvas_count(const TsCloud *c, double r, TsPointCanvasCounts *out);

#define TS_TYPE_POINT_CANVAS (ts_point_canvas_get_type())
G_DECLARE_FINAL_TYPE(TsPointCanvas, ts_point_canvas, TS, POINT_CANVAS, GtkWidget)

GtkWidget *ts_point_canvas_new(void);
/* The canvas edits the clouds in place (they belong to the caller and must
 * outlive it); call ts_point_canvas_refresh after changing them. */
void ts_point_canvas_set_clouds(TsPointCanvas *self, TsCloud *cloud, TsCloud *target);
void ts_point_canvas_refresh(TsPointCanvas *self, gboolean refit);
void ts_point_canvas_set_active(TsPointCanvas *self, int which);
int ts_point_canvas_get_active(TsPointCanvas *self);
void ts_point_canvas_set_r(TsPointCanvas *self, double r);
void ts_point_canvas_set_title(TsPointCanvas *self, const char *title);
void ts_point_canvas_set_highlight(TsPointCanvas *self, int i, int j);
/* Selection of the edited cloud. */
void ts_point_canvas_select_all(TsPointCanvas *self, gboolean on);
size_t ts_point_canvas_delete_selected(TsPointCanvas *self);
size_t ts_point_canvas_get_n_selected(TsPointCanvas *self);
/* Widget pixels <-> data coordinates in the current view. */
void ts_point_canvas_to_data(TsPointCanvas *self, double px, double py, double *x, double *y);
void ts_point_canvas_to_widget(TsPointCanvas *self, double x, double y, double *px, double *py);
/* Editing as the pointer does it (tests use these too). */
void ts_point_canvas_click(TsPointCanvas *self, double px, double py, GdkModifierType mods);
void ts_point_canvas_drag(TsPointCanvas *self, double px0, double py0, double px1, double py1);
gboolean ts_point_canvas_export(TsPointCanvas *self, const char *path, int w, int h, GError **error);
/* The data for drawing the canvas as it is now (pointers into the widget). */
TsPointCanvasData ts_point_canvas_get_data(TsPointCanvas *self);

/* Signal "changed" (no arguments): the user added, moved or removed points
 * (emitted once per drag step). */

G_END_DECLS

#endif
