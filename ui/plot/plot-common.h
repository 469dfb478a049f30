/* plot-common.h — what every plot shares: the mapping from data to pixels,
 * axes with "nice" ticks, text, the per-dimension colours.
 *
 * Everything here draws with Cairo on any cairo_t (a widget snapshot, an
 * image surface in a test, an SVG or PDF file), so each plot's drawing is a
 * pure function of (cairo_t, data, size) and can be tested without a window. */
#ifndef TS_UI_PLOT_COMMON_H
#define TS_UI_PLOT_COMMON_H

#include <cairo.h>
#include <stddef.h>

/* A rectangle of data coordinates mapped onto a rectangle of pixels.
 * Log axes map log10(v); values <= 0 on a log axis map to the lower edge. */
typedef struct TsPlotFrame {
  double x0, x1, y0, y1; /* data range shown (x0 < x1, y0 < y1) */
  int logx, logy;
  int no_yticks; /* no y grid or tick labels (e.g. a barcode's bar axis) */
  double left, top, width, height; /* plot area in device units */
} TsPlotFrame;

/* Plot area inside a w x h canvas with the margins every plot uses (room for
 * tick labels at the left and bottom, a title at the top). */
void ts_plot_frame_layout(TsPlotFrame *f, int w, int h, int has_title);
double ts_plot_frame_x(const TsPlotFrame *f, double x);
double ts_plot_frame_y(const TsPlotFrame *f, double y);
double ts_plot_frame_inv_x(const TsPlotFrame *f, double px);
double ts_plot_frame_inv_y(const TsPlotFrame *f, double py);
int ts_plot_frame_contains(const TsPlotFrame *f, double px, double py);

/* Widens a degenerate or empty range and pads it by frac of its length. */
void ts_plot_range_fix(double *lo, double *hi, double frac, int log);

/* Up to max ticks at 1/2/5 x 10^k between lo and hi; returns the count.
 * On a log axis: the powers of ten. */
int ts_plot_nice_ticks(double lo, double hi, int log, double *ticks, int max);

/* Paper and ink. Light by default (exported files are always light); a
 * widget drawing under the dark style sets dark around its drawing (white
 * ink on a dark card). */
void ts_plot_set_dark(int dark);
int ts_plot_get_dark(void);
/* Sets the source to the ink colour at alpha (black, or white when dark). */
void ts_plot_ink(cairo_t *cr, double alpha);

/* The card background (white, or the dark card colour). */
void ts_plot_draw_background(cairo_t *cr, int w, int h);
/* Grid, ticks, tick labels, axis labels and the title. */
void ts_plot_draw_axes(cairo_t *cr, const TsPlotFrame *f, const char *title, const char *xlabel,
                       const char *ylabel);
/* Text anchored at (x, y): ax, ay in [0, 1] (0 = left/top, 0.5 = centre).
 * Returns the text's width in pixels. */
double ts_plot_text(cairo_t *cr, double x, double y, const char *text, double ax, double ay, double size,
                  int bold);
/* Formats a value compactly ("0.25", "1e+05", "-3"). */
void ts_plot_format(double v, char *buf, size_t n);

/* GNOME palette colours, one per homology dimension (0..3, then repeating). */
void ts_plot_dim_color(int dim, double rgb[3]);
/* Colours for the several series of a line plot. */
void ts_plot_series_color(int i, double rgb[3]);

#define TS_PLOT_FONT "Cantarell, Sans"
#define TS_PLOT_FONT_SIZE 11.0

#endif
