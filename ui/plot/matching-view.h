/* matching-view.h — two persistence diagrams and the matching between them.
 *
 * What a bottleneck or Wasserstein distance pairs up, drawn so it can be
 * read: diagram A as filled dots, diagram B as rings (one colour per
 * dimension), each matched pair joined by a line, a point matched to the
 * diagonal joined to its projection ((b + d) / 2, (b + d) / 2) by a dashed
 * line, the most expensive edge thick and red with its cost written beside
 * it. Side by side (A left, B right, the same axes, lines crossing the gap)
 * or overlaid in one frame. Essential classes sit in an infinity lane.
 * Drawing is the pure function ts_matching_view_draw; TsMatchingView adds
 * click selection of an edge, tooltips and export. */
#ifndef TS_UI_MATCHING_VIEW_H
#define TS_UI_MATCHING_VIEW_H

#include <gtk/gtk.h>

#include "ph/diagram.h"
#include "ph/matching.h"
#include "plot/plot-common.h"

G_BEGIN_DECLS

typedef struct TsMatchingViewData {
  const TsDiagram *a, *b;  /* may be NULL */
  const TsMatching *m;     /* may be NULL: the points only */
  int side_by_side;        /* 0: one frame */
  unsigned dims;           /* bit k shows dimension k; 0 shows all */
  long selected;           /* an edge of m drawn highlighted, or -1 */
  const char *title, *label_a, *label_b;
} TsMatchingViewData;

/* The edge with the largest cost (-1 if none): the bottleneck edge. */
long ts_matching_longest(const TsMatching *m);

void ts_matching_view_draw(cairo_t *cr, const TsMatchingViewData *d, int w, int h);
/* Where the two ends of edge e are drawn (FALSE if its dimension is hidden). */
gboolean ts_matching_view_edge_ends(const TsMatchingViewData *d, int w, int h, size_t e, double *ax, double *ay,
                                    double *bx, double *by);
/* The edge with an end within radius pixels of (x, y), or -1. */
long ts_matching_view_edge_at(const TsMatchingViewData *d, int w, int h, double x, double y, double radius);

#define TS_TYPE_MATCHING_VIEW (ts_matching_view_get_type())
G_DECLARE_FINAL_TYPE(TsMatchingView, ts_matching_view, TS, MATCHING_VIEW, GtkWidget)

GtkWidget *ts_matching_view_new(void);
/* Copies both diagrams and the matching (any may be NULL); clears the
 * selected edge. */
void ts_matching_view_set(TsMatchingView *self, const TsDiagram *a, const TsDiagram *b, const TsMatching *m);
void ts_matching_view_set_side_by_side(TsMatchingView *self, gboolean on);
void ts_matching_view_set_dims(TsMatchingView *self, unsigned dims);
void ts_matching_view_set_title(TsMatchingView *self, const char *title);
void ts_matching_view_set_labels(TsMatchingView *self, const char *a, const char *b);
/* -1 clears; emits "edge-selected" only when emit is TRUE. */
void ts_matching_view_select(TsMatchingView *self, long edge, gboolean emit);
long ts_matching_view_get_selected(TsMatchingView *self);
const TsMatching *ts_matching_view_get_matching(TsMatchingView *self);
gboolean ts_matching_view_export(TsMatchingView *self, const char *path, int w, int h, GError **error);
gboolean ts_matching_view_export_csv(TsMatchingView *self, const char *path, GError **error);

/* Signal "edge-selected" (no arguments): a click chose an edge (or none). */

G_END_DECLS

#endif
