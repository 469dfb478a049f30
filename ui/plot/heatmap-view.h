/* heatmap-view.h — an image or a scalar field, with overlays.
 *
 * Shows an 8-bit picture as it is, or a float64 field through a colour map
 * (grey, viridis, magma, diverging) with a colour bar; overlays a mask (e.g.
 * the sublevel set at t) in a translucent colour and markers at pixels
 * (birth: ring, death: cross). Pixels stay square and sharp (nearest
 * filter) whatever the zoom. Drawing is the pure function
 * ts_heatmap_view_draw; TsHeatmapView adds tooltips and export. */
#ifndef TS_UI_HEATMAP_VIEW_H
#define TS_UI_HEATMAP_VIEW_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "plot/colormap.h"

G_BEGIN_DECLS

typedef enum TsMarkerShape { TS_MARKER_BIRTH = 0, TS_MARKER_DEATH } TsMarkerShape;

typedef struct TsHeatmapMarker {
  double row, col; /* pixel (row = axis 0, col = axis 1) */
  double rgb[3];
  TsMarkerShape shape;
} TsHeatmapMarker;

typedef struct TsHeatmapViewData {
  int width, height;   /* of the field / image */
  const double *field; /* width*height, row-major; or NULL */
  const uint8_t *image; /* 8-bit pixels (channels 1, 3 or 4), shown instead of field; or NULL */
  int channels;
  TsColormap cmap;
  double vmin, vmax; /* colour range; vmin >= vmax: the field's finite range */
  int colorbar;
  const uint8_t *mask; /* width*height; non-zero pixels get mask_rgba on top */
  double mask_rgba[4];
  const TsHeatmapMarker *markers;
  size_t n_markers;
  const char *title;
  cairo_surface_t *base; /* the picture rendered by ts_heatmap_view_render_base, or NULL */
} TsHeatmapViewData;

void ts_heatmap_view_draw(cairo_t *cr, const TsHeatmapViewData *d, int w, int h);
/* The picture or the colour-mapped field as a width x height image surface
 * (what the draw makes each time unless d->base holds it already). */
cairo_surface_t *ts_heatmap_view_render_base(const TsHeatmapViewData *d);
/* Where the image lands: top-left corner and the size of one pixel. */
void ts_heatmap_view_layout(const TsHeatmapViewData *d, int w, int h, double *ox, double *oy, double *scale);
/* The finite min and max of a field (0, 1 when there is none). */
void ts_heatmap_field_range(const double *v, size_t n, double *lo, double *hi);

#define TS_TYPE_HEATMAP_VIEW (ts_heatmap_view_get_type())
G_DECLARE_FINAL_TYPE(TsHeatmapView, ts_heatmap_view, TS, HEATMAP_VIEW, GtkWidget)

GtkWidget *ts_heatmap_view_new(void);
/* Copies the field (NULL clears). */
void ts_heatmap_view_set_field(TsHeatmapView *self, const double *field, int width, int height);
/* Copies the picture (NULL clears). */
void ts_heatmap_view_set_image(TsHeatmapView *self, const uint8_t *pixels, int width, int height, int channels);
void ts_heatmap_view_set_colormap(TsHeatmapView *self, TsColormap cmap);
void ts_heatmap_view_set_range(TsHeatmapView *self, double vmin, double vmax);
void ts_heatmap_view_set_colorbar(TsHeatmapView *self, gboolean on);
void ts_heatmap_view_set_title(TsHeatmapView *self, const char *title);
/* Copies a width*height mask (NULL removes the overlay). */
void ts_heatmap_view_set_mask(TsHeatmapView *self, const uint8_t *mask, const double rgba[4]);
void ts_heatmap_view_set_markers(TsHeatmapView *self, const TsHeatmapMarker *m, size_t n);
size_t ts_heatmap_view_get_markers(TsHeatmapView *self, const TsHeatmapMarker **m);
void ts_heatmap_view_set_min_size(TsHeatmapView *self, int size);
gboolean ts_heatmap_view_export(TsHeatmapView *self, const char *path, int w, int h, GError **error);
gboolean ts_heatmap_view_export_csv(TsHeatmapView *self, const char *path, GError **error);

G_END_DECLS

#endif
