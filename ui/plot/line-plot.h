/* line-plot.h — several series against a common x axis.
 *
 * Linear or log axes, EMA smoothing (0..0.999, TensorBoard's debiased
 * exponential moving average) with the raw series kept as a faint ghost,
 * auto-fit while data arrive unless the axes are locked. Drawing is the
 * pure function ts_line_plot_draw; TsLinePlot wraps it with a small bar of
 * controls (smoothing slider, log y, lock) and export. */
#ifndef TS_UI_LINE_PLOT_H
#define TS_UI_LINE_PLOT_H

#include <gtk/gtk.h>

#include "plot/plot-common.h"

G_BEGIN_DECLS

typedef struct TsLineSeries {
  const char *name;
  const double *x, *y;
  size_t n;
  double rgb[3];
  /* Optional, kept by the widget as points arrive so a redraw need not walk
   * them all: smooth (NULL: computed) is the EMA of y at the data's
   * smoothing; has_range says rx0..ry1 is the range of the finite points
   * (positive ones on a log axis) for the data's logx/logy. */
  const double *smooth;
  int has_range;
  double rx0, rx1, ry0, ry1;
} TsLineSeries;

typedef struct TsLinePlotData {
  const TsLineSeries *series;
  size_t n_series;
  int logx, logy;
  double smoothing;      /* 0 = raw */
  double x0, x1, y0, y1; /* x0 >= x1: fit the data */
  double vline;          /* a vertical marker; NAN: none */
  const char *title, *xlabel, *ylabel;
} TsLinePlotData;

/* out[i] = debiased EMA of y[0..i] with weight a on the past (a = 0: out = y).
 * Non-finite values are passed through and do not enter the average. */
void ts_line_plot_ema(const double *y, size_t n, double a, double *out);
void ts_line_plot_draw(cairo_t *cr, const TsLinePlotData *d, int w, int h);
void ts_line_plot_layout(const TsLinePlotData *d, int w, int h, TsPlotFrame *f);

#define TS_TYPE_LINE_PLOT (ts_line_plot_get_type())
G_DECLARE_FINAL_TYPE(TsLinePlot, ts_line_plot, TS, LINE_PLOT, GtkWidget)

GtkWidget *ts_line_plot_new(void);
void ts_line_plot_set_labels(TsLinePlot *self, const char *title, const char *xlabel, const char *ylabel);
/* Adds an empty series; returns its index. */
guint ts_line_plot_add_series(TsLinePlot *self, const char *name);
void ts_line_plot_clear(TsLinePlot *self); /* removes every series */
/* A series' colour (by default the palette's, in order of adding). */
void ts_line_plot_set_color(TsLinePlot *self, guint series, const double rgb[3]);
void ts_line_plot_append(TsLinePlot *self, guint series, double x, double y);
/* Appends n points at once (one redraw). */
void ts_line_plot_append_points(TsLinePlot *self, guint series, const double *x, const double *y, size_t n);
void ts_line_plot_set_points(TsLinePlot *self, guint series, const double *x, const double *y, size_t n);
void ts_line_plot_set_smoothing(TsLinePlot *self, double a);
double ts_line_plot_get_smoothing(TsLinePlot *self);
void ts_line_plot_set_log(TsLinePlot *self, gboolean logx, gboolean logy);
/* Locked: the axes keep their current range as data arrive. */
void ts_line_plot_set_locked(TsLinePlot *self, gboolean locked);
gboolean ts_line_plot_get_locked(TsLinePlot *self);
void ts_line_plot_set_vline(TsLinePlot *self, double x);
void ts_line_plot_set_show_controls(TsLinePlot *self, gboolean show);
/* The x/y range currently shown. */
void ts_line_plot_get_range(TsLinePlot *self, double *x0, double *x1, double *y0, double *y1);
gboolean ts_line_plot_export(TsLinePlot *self, const char *path, int w, int h, GError **error);
gboolean ts_line_plot_export_csv(TsLinePlot *self, const char *path, GError **error);

G_END_DECLS

#endif
