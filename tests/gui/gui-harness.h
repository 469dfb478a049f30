/* gui-harness.h — running a window's main loop from a test: wait for a
 * condition, let drawing settle, render the window to pixels, count its
 * colours, save a screenshot when TS_SCREENSHOT_DIR is set. For one test
 * program (static functions; include once). */
#ifndef TS_TESTS_GUI_HARNESS_H
#define TS_TESTS_GUI_HARNESS_H

#include <gtk/gtk.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static GtkWidget *harness_win;

static gboolean harness_wake(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until cond() holds or timeout_s passes. */
static int wait_for(gboolean (*cond)(void), double timeout_s) {
  gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
  guint id = g_timeout_add(20, harness_wake, NULL);
  int ok = 1;
  while (!cond()) {
    if (g_get_monotonic_time() > end) {
      ok = 0;
      break;
    }
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(id);
  return ok;
}

/* Runs the main loop for s seconds. */
static void spin_for(double s) {
  gint64 end = g_get_monotonic_time() + (gint64)(s * G_USEC_PER_SEC);
  guint id = g_timeout_add(10, harness_wake, NULL);
  while (g_get_monotonic_time() < end) g_main_context_iteration(NULL, TRUE);
  g_source_remove(id);
}

static int harness_paints;
static gint64 harness_settle_until;
static void harness_after_paint(GdkFrameClock *clock, gpointer data) {
  (void)clock;
  if (++harness_paints < 2) gtk_widget_queue_draw(data);
}
static gboolean harness_settled(void) {
  return harness_paints >= 2 && g_get_monotonic_time() >= harness_settle_until;
}
/* Lets layout and drawing catch up: two painted frames and 300 ms. */
static void settle(void) {
  GdkFrameClock *clock = gtk_widget_get_frame_clock(harness_win);
  harness_paints = 0;
  harness_settle_until = g_get_monotonic_time() + 300 * 1000;
  gulong id = clock ? g_signal_connect(clock, "after-paint", G_CALLBACK(harness_after_paint), harness_win) : 0;
  if (!clock) harness_paints = 2;
  gtk_widget_queue_draw(harness_win);
  wait_for(harness_settled, 10);
  if (id) g_signal_handler_disconnect(clock, id);
}

/* The window rendered as the screen shows it: ARGB32 pixels. */
static cairo_surface_t *render_window(void) {
  GtkWidget *w = harness_win;
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *p = gtk_widget_paintable_new(w);
  GtkSnapshot *s = gtk_snapshot_new();
  gdk_paintable_snapshot(p, GDK_SNAPSHOT(s), width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(s);
  g_object_unref(p);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (!node) return img;
  GdkTexture *tex = gsk_renderer_render_texture(gtk_native_get_renderer(GTK_NATIVE(w)), node,
                                                &GRAPHENE_RECT_INIT(0, 0, width, height));
  gsk_render_node_unref(node);
  cairo_surface_flush(img);
  gdk_texture_download(tex, cairo_image_surface_get_data(img), (gsize)cairo_image_surface_get_stride(img));
  cairo_surface_mark_dirty(img);
  g_object_unref(tex);
  return img;
}

/* Distinct colours (quantised to 4 bits per channel) in a rectangle. */
static int colour_count(cairo_surface_t *s, int x0, int y0, int x1, int y1) {
  static uint8_t seen[4096];
  memset(seen, 0, sizeof seen);
  int n = 0, stride = cairo_image_surface_get_stride(s);
  const uint8_t *d = cairo_image_surface_get_data(s);
  for (int y = y0; y < y1; y += 2)
    for (int x = x0; x < x1; x += 2) {
      uint32_t p = *(const uint32_t *)(const void *)(d + (size_t)y * stride + 4 * (size_t)x);
      int q = (int)(((p >> 20) & 0xf) << 8 | ((p >> 12) & 0xf) << 4 | ((p >> 4) & 0xf));
      if (!seen[q]) seen[q] = 1, n++;
    }
  return n;
}

/* The window's pixels once it has painted a real frame. */
static cairo_surface_t *render_painted(void) {
  for (int attempt = 0;; attempt++) {
    settle();
    cairo_surface_t *s = render_window();
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    if (attempt >= 30 || (w > 0 && colour_count(s, 0, 0, w, h) > 20)) return s;
    cairo_surface_destroy(s);
  }
}

static void save_shot(cairo_surface_t *s, const char *name) {
  const char *dir = g_getenv("TS_SCREENSHOT_DIR");
  if (!dir) return;
  char *path = g_build_filename(dir, name, NULL);
  cairo_surface_write_to_png(s, path);
  printf("wrote %s\n", path);
  g_free(path);
}

static int file_starts_with(const char *path, const char *magic, size_t n) {
  char buf[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  return got == n && memcmp(buf, magic, n) == 0;
}

#endif
