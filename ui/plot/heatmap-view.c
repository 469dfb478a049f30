/* heatmap-view.c — image / field view with colour bar and overlays. */
#include "plot/heatmap-view.h"

#include <math.h>
#include <string.h>

#include "plot/plot-common.h"
#include "plot/plot-export.h"

enum { BAR_W = 12, BAR_GAP = 10, BAR_LABELS = 44, PAD = 6, TITLE_H = 26 };

void ts_heatmap_field_range(const double *v, size_t n, double *lo, double *hi) {
  double a = INFINITY, b = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) a = fmin(a, v[i]), b = fmax(b, v[i]);
  if (!(a <= b)) a = 0, b = 1;
  *lo = a, *hi = b;
}

static int show_bar(const TsHeatmapViewData *d) { return d->colorbar && d->field && !d->image; }

void ts_heatmap_view_layout(const TsHeatmapViewData *d, int w, int h, double *ox, double *oy, double *scale) {
  double top = (d->title && *d->title) ? TITLE_H : PAD;
  double aw = w - 2 * PAD - (show_bar(d) ? BAR_W + BAR_GAP + BAR_LABELS : 0), ah = h - top - PAD;
  double iw = d->width > 0 ? d->width : 1, ih = d->height > 0 ? d->height : 1;
  double s = fmax(1e-6, fmin(aw / iw, ah / ih));
  *scale = s;
  *ox = PAD + (aw - iw * s) / 2;
  *oy = top + (ah - ih * s) / 2;
}

static void color_range(const TsHeatmapViewData *d, double *lo, double *hi) {
  if (d->vmin < d->vmax) {
    *lo = d->vmin, *hi = d->vmax;
    return;
  }
  ts_heatmap_field_range(d->field, (size_t)d->width * (size_t)d->height, lo, hi);
}

cairo_surface_t *ts_heatmap_view_render_base(const TsHeatmapViewData *d) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, d->width, d->height);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return s;
  cairo_surface_flush(s);
  uint8_t *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  uint32_t lut[256];
  for (int i = 0; i < 256; i++) {
    uint8_t rgb[3];
    ts_colormap_rgb(d->cmap, i / 255.0, rgb);
    lut[i] = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
  }
  double lo = 0, hi = 1;
  if (!d->image) color_range(d, &lo, &hi);
  double k = hi > lo ? 255.0 / (hi - lo) : 0;
  for (int y = 0; y < d->height; y++) {
    uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * stride);
    for (int x = 0; x < d->width; x++) {
      size_t i = (size_t)y * d->width + x;
      if (d->image) {
        const uint8_t *p = d->image + i * d->channels;
        uint8_t r = p[0], g = d->channels >= 3 ? p[1] : p[0], b = d->channels >= 3 ? p[2] : p[0];
        row[x] = (uint32_t)r << 16 | (uint32_t)g << 8 | b;
      } else {
        double v = d->field[i];
        if (isnan(v)) row[x] = 0xffffff; /* no data: background */
        else {
          double t = (v - lo) * k;
          int q = t < 0 ? 0 : t > 255 ? 255 : (int)t;
          row[x] = lut[q];
        }
      }
    }
  }
  cairo_surface_mark_dirty(s);
  return s;
}

static cairo_surface_t *mask_surface(const TsHeatmapViewData *d) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, d->width, d->height);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return s;
  cairo_surface_flush(s);
  uint8_t *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  double a = d->mask_rgba[3];
  uint32_t c = (uint32_t)lrint(a * 255) << 24 | (uint32_t)lrint(d->mask_rgba[0] * a * 255) << 16 |
               (uint32_t)lrint(d->mask_rgba[1] * a * 255) << 8 | (uint32_t)lrint(d->mask_rgba[2] * a * 255);
  for (int y = 0; y < d->height; y++) {
    uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * stride);
    const uint8_t *m = d->mask + (size_t)y * d->width;
    for (int x = 0; x < d->width; x++) row[x] = m[x] ? c : 0;
  }
  cairo_surface_mark_dirty(s);
  return s;
}

static void paint_scaled(cairo_t *cr, cairo_surface_t *s, double ox, double oy, double scale) {
  cairo_save(cr);
  cairo_translate(cr, ox, oy);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), scale >= 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_restore(cr);
}

static void draw_marker(cairo_t *cr, const TsHeatmapMarker *m, double ox, double oy, double scale) {
  double cx = ox + (m->col + 0.5) * scale, cy = oy + (m->row + 0.5) * scale;
  double r = fmin(12.0, fmax(6.0, scale * 0.6));
  for (int pass = 0; pass < 2; pass++) { /* white halo, then colour: visible on any image */
    if (pass == 0) cairo_set_source_rgb(cr, 1, 1, 1), cairo_set_line_width(cr, 4.5);
    else cairo_set_source_rgb(cr, m->rgb[0], m->rgb[1], m->rgb[2]), cairo_set_line_width(cr, 2.0);
    if (m->shape == TS_MARKER_BIRTH) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
    } else {
      cairo_move_to(cr, cx - r, cy - r);
      cairo_line_to(cr, cx + r, cy + r);
      cairo_move_to(cr, cx + r, cy - r);
      cairo_line_to(cr, cx - r, cy + r);
    }
    cairo_stroke(cr);
  }
}

void ts_heatmap_view_draw(cairo_t *cr, const TsHeatmapViewData *d, int w, int h) {
  ts_plot_draw_background(cr, w, h);
  if (d->title && *d->title) {
    ts_plot_ink(cr, 0.85);
    ts_plot_text(cr, 12, 8, d->title, 0.0, 0.0, TS_PLOT_FONT_SIZE + 1, 1);
  }
  if (d->width <= 0 || d->height <= 0 || (!d->field && !d->image)) {
    ts_plot_ink(cr, 0.45);
    ts_plot_text(cr, w / 2.0, h / 2.0, "no image", 0.5, 0.5, TS_PLOT_FONT_SIZE, 0);
    return;
  }
  double ox, oy, scale;
  ts_heatmap_view_layout(d, w, h, &ox, &oy, &scale);
  cairo_surface_t *base = d->base ? cairo_surface_reference(d->base) : ts_heatmap_view_render_base(d);
  paint_scaled(cr, base, ox, oy, scale);
  cairo_surface_destroy(base);
  if (d->mask) {
    cairo_surface_t *m = mask_surface(d);
    paint_scaled(cr, m, ox, oy, scale);
    cairo_surface_destroy(m);
  }
  ts_plot_ink(cr, 0.35);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, round(ox) - 0.5, round(oy) - 0.5, round(d->width * scale) + 1, round(d->height * scale) + 1);
  cairo_stroke(cr);
  for (size_t i = 0; i < d->n_markers; i++) draw_marker(cr, &d->markers[i], ox, oy, scale);
  if (show_bar(d)) {
    double lo, hi;
    color_range(d, &lo, &hi);
    double bx = ox + d->width * scale + BAR_GAP, by = oy, bh = d->height * scale;
    /* a gradient with many stops: smooth on screen, vector in SVG/PDF */
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, by + bh, 0, by);
    for (int i = 0; i <= 64; i++) {
      uint8_t rgb[3];
      ts_colormap_rgb(d->cmap, i / 64.0, rgb);
      cairo_pattern_add_color_stop_rgb(grad, i / 64.0, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
    }
    cairo_set_source(cr, grad);
    cairo_rectangle(cr, bx, by, BAR_W, bh);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    ts_plot_ink(cr, 0.35);
    cairo_rectangle(cr, round(bx) - 0.5, round(by) - 0.5, BAR_W + 1, round(bh) + 1);
    cairo_stroke(cr);
    double ticks[12];
    int n = ts_plot_nice_ticks(lo, hi, 0, ticks, bh > 120 ? 6 : 3);
    char buf[32];
    ts_plot_ink(cr, 0.75);
    for (int i = 0; i < n; i++) {
      double y = by + bh - (ticks[i] - lo) / (hi - lo) * bh;
      ts_plot_format(ticks[i], buf, sizeof buf);
      ts_plot_text(cr, bx + BAR_W + 4, y, buf, 0.0, 0.5, TS_PLOT_FONT_SIZE - 2, 0);
    }
  }
}

/* ---------------------------------------------------------------------- */

struct _TsHeatmapView {
  GtkWidget parent;
  int width, height, channels;
  double *field;
  uint8_t *image, *mask;
  double mask_rgba[4];
  TsColormap cmap;
  double vmin, vmax;
  int colorbar, min_size;
  GArray *markers;
  char *title;
  cairo_surface_t *base; /* cached picture: a moving mask does not re-map the field */
};

G_DEFINE_FINAL_TYPE(TsHeatmapView, ts_heatmap_view, GTK_TYPE_WIDGET)

static TsHeatmapViewData view_data(TsHeatmapView *self) {
  TsHeatmapViewData d = {.width = self->width,
                         .height = self->height,
                         .field = self->field,
                         .image = self->image,
                         .channels = self->channels,
                         .cmap = self->cmap,
                         .vmin = self->vmin,
                         .vmax = self->vmax,
                         .colorbar = self->colorbar,
                         .mask = self->mask,
                         .markers = (const TsHeatmapMarker *)(void *)self->markers->data,
                         .n_markers = self->markers->len,
                         .title = self->title};
  memcpy(d.mask_rgba, self->mask_rgba, sizeof d.mask_rgba);
  return d;
}

static void ts_heatmap_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsHeatmapView *self = TS_HEATMAP_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  ts_plot_set_dark(ts_plot_widget_is_dark(widget));
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  TsHeatmapViewData d = view_data(self);
  if (!self->base && (self->field || self->image) && self->width > 0) self->base = ts_heatmap_view_render_base(&d);
  d.base = self->base;
  ts_heatmap_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  ts_plot_set_dark(0);
}

static void invalidate_base(TsHeatmapView *self) {
  g_clear_pointer(&self->base, cairo_surface_destroy);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void ts_heatmap_view_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                    int *nat_b) {
  (void)o, (void)for_size;
  TsHeatmapView *self = TS_HEATMAP_VIEW(w);
  *min = self->min_size;
  *nat = self->min_size > 240 ? self->min_size : 240;
  *min_b = *nat_b = -1;
}

static void ts_heatmap_view_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  ts_plot_export_allocate(w);
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, gpointer data) {
  (void)kb, (void)data;
  TsHeatmapView *self = TS_HEATMAP_VIEW(w);
  if (!self->field && !self->image) return FALSE;
  TsHeatmapViewData d = view_data(self);
  double ox, oy, s;
  ts_heatmap_view_layout(&d, gtk_widget_get_width(w), gtk_widget_get_height(w), &ox, &oy, &s);
  int col = (int)floor((x - ox) / s), row = (int)floor((y - oy) / s);
  if (col < 0 || row < 0 || col >= self->width || row >= self->height) return FALSE;
  size_t i = (size_t)row * self->width + col;
  char *text;
  if (self->image && self->channels >= 3)
    text = g_strdup_printf("row %d, col %d\nRGB %d %d %d", row, col, self->image[i * self->channels],
                           self->image[i * self->channels + 1], self->image[i * self->channels + 2]);
  else if (self->image) text = g_strdup_printf("row %d, col %d\nvalue %d", row, col, self->image[i * self->channels]);
  else text = g_strdup_printf("row %d, col %d\nvalue %.6g", row, col, self->field[i]);
  gtk_tooltip_set_text(tip, text);
  g_free(text);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_heatmap_view_export(TS_HEATMAP_VIEW(w), path, 0, 0, error);
}
static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  return ts_heatmap_view_export_csv(TS_HEATMAP_VIEW(w), path, error);
}

static void ts_heatmap_view_dispose(GObject *o) {
  ts_plot_export_detach(GTK_WIDGET(o));
  G_OBJECT_CLASS(ts_heatmap_view_parent_class)->dispose(o);
}

static void ts_heatmap_view_finalize(GObject *o) {
  TsHeatmapView *self = TS_HEATMAP_VIEW(o);
  g_free(self->field);
  g_free(self->image);
  g_free(self->mask);
  g_free(self->title);
  g_array_unref(self->markers);
  g_clear_pointer(&self->base, cairo_surface_destroy);
  G_OBJECT_CLASS(ts_heatmap_view_parent_class)->finalize(o);
}

static void ts_heatmap_view_class_init(TsHeatmapViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_heatmap_view_dispose;
  oc->finalize = ts_heatmap_view_finalize;
  wc->snapshot = ts_heatmap_view_snapshot;
  wc->measure = ts_heatmap_view_measure;
  wc->size_allocate = ts_heatmap_view_size_allocate;
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_css_name(wc, "heatmapview");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_heatmap_view_init(TsHeatmapView *self) {
  self->markers = g_array_new(FALSE, TRUE, sizeof(TsHeatmapMarker));
  self->cmap = TS_CMAP_VIRIDIS;
  self->colorbar = 1;
  self->min_size = 120;
  gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
  g_signal_connect(self, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  ts_plot_export_attach(GTK_WIDGET(self));
}

GtkWidget *ts_heatmap_view_new(void) { return g_object_new(TS_TYPE_HEATMAP_VIEW, NULL); }

static void set_size(TsHeatmapView *self, int width, int height) {
  if (self->width != width || self->height != height) {
    g_clear_pointer(&self->mask, g_free);
    g_array_set_size(self->markers, 0);
  }
  self->width = width, self->height = height;
}

void ts_heatmap_view_set_field(TsHeatmapView *self, const double *field, int width, int height) {
  g_clear_pointer(&self->field, g_free);
  g_clear_pointer(&self->image, g_free);
  if (field && width > 0 && height > 0) {
    self->field = g_memdup2(field, sizeof(double) * (size_t)width * (size_t)height);
    set_size(self, width, height);
  } else {
    set_size(self, 0, 0);
  }
  invalidate_base(self);
}

void ts_heatmap_view_set_image(TsHeatmapView *self, const uint8_t *pixels, int width, int height, int channels) {
  g_clear_pointer(&self->field, g_free);
  g_clear_pointer(&self->image, g_free);
  if (pixels && width > 0 && height > 0 && channels >= 1 && channels <= 4) {
    self->image = g_memdup2(pixels, (size_t)width * (size_t)height * (size_t)channels);
    self->channels = channels;
    set_size(self, width, height);
  } else {
    set_size(self, 0, 0);
  }
  invalidate_base(self);
}

void ts_heatmap_view_set_colormap(TsHeatmapView *self, TsColormap cmap) {
  self->cmap = cmap;
  invalidate_base(self);
}

void ts_heatmap_view_set_range(TsHeatmapView *self, double vmin, double vmax) {
  self->vmin = vmin, self->vmax = vmax;
  invalidate_base(self);
}

void ts_heatmap_view_set_colorbar(TsHeatmapView *self, gboolean on) {
  self->colorbar = !!on;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_heatmap_view_set_title(TsHeatmapView *self, const char *title) {
  g_free(self->title);
  self->title = g_strdup(title);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_heatmap_view_set_mask(TsHeatmapView *self, const uint8_t *mask, const double rgba[4]) {
  g_clear_pointer(&self->mask, g_free);
  if (mask && self->width > 0) {
    self->mask = g_memdup2(mask, (size_t)self->width * (size_t)self->height);
    memcpy(self->mask_rgba, rgba, sizeof self->mask_rgba);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_heatmap_view_set_markers(TsHeatmapView *self, const TsHeatmapMarker *m, size_t n) {
  g_array_set_size(self->markers, 0);
  if (m && n) g_array_append_vals(self->markers, m, (guint)n);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

size_t ts_heatmap_view_get_markers(TsHeatmapView *self, const TsHeatmapMarker **m) {
  *m = (const TsHeatmapMarker *)(void *)self->markers->data;
  return self->markers->len;
}

void ts_heatmap_view_set_min_size(TsHeatmapView *self, int size) {
  self->min_size = size;
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

gboolean ts_heatmap_view_export(TsHeatmapView *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 480, h = 400;
  }
  TsHeatmapViewData d = view_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_heatmap_view_draw, &d, w, h, path, error);
}

gboolean ts_heatmap_view_export_csv(TsHeatmapView *self, const char *path, GError **error) {
  /* one row per image row, like numpy.savetxt */
  GString *s = g_string_new(NULL);
  for (int y = 0; y < self->height; y++) {
    for (int x = 0; x < self->width; x++) {
      size_t i = (size_t)y * self->width + x;
      if (x) g_string_append_c(s, ',');
      if (self->field) g_string_append_printf(s, "%.17g", self->field[i]);
      else if (self->channels == 1) g_string_append_printf(s, "%d", self->image[i]);
      else {
        double v = 0.2989 * self->image[i * self->channels] + 0.5870 * self->image[i * self->channels + 1] +
                   0.1140 * self->image[i * self->channels + 2];
        g_string_append_printf(s, "%.6g", v);
      }
    }
    g_string_append_c(s, '\n');
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
