/* gui.c — the application: AdwApplication, app actions and accelerators,
 * the about window, and the --screenshot mode used by tests and the README. */
#include "gui.h"

#include <adwaita.h>
#include <string.h>

#include "ts-config.h"
#include "ui-resources.h"
#include "window.h"

#define TS_APP_ID "org.toposcope.Toposcope"
#define SCREENSHOT_TIMEOUT_S 120 /* sanitizer builds under Xvfb are slow */

typedef struct {
  const TsGuiOptions *opts;
  TsWindow *win;
  int status;
  guint quiet_ticks;
  gint64 started;
} GuiRun;

static void action_quit(GSimpleAction *a, GVariant *p, gpointer app) {
  (void)a, (void)p;
  GList *wins = gtk_application_get_windows(GTK_APPLICATION(app));
  for (GList *l = wins; l; l = l->next) gtk_window_close(GTK_WINDOW(l->data)); /* remembers their state */
  g_application_quit(G_APPLICATION(app));
}

static void action_about(GSimpleAction *a, GVariant *p, gpointer app) {
  (void)a, (void)p;
  GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(app));
  const char *developers[] = {"The Toposcope authors", NULL};
  GtkWidget *about = g_object_new(ADW_TYPE_ABOUT_WINDOW, "transient-for", parent, "application-name", "Toposcope",
                                  "application-icon", TS_APP_ID, "version", TS_VERSION, "developer-name",
                                  "The Toposcope authors", "developers", developers, "license-type",
                                  GTK_LICENSE_MIT_X11, "comments",
                                  "A workbench for topological deep learning: synthetic images, persistent "
                                  "homology, diagrams and barcodes, and networks that learn them.",
                                  NULL);
  gtk_window_present(GTK_WINDOW(about));
}

/* Whether a texture holds a real picture: its first frames after mapping can
 * come out as one flat colour on a loaded X server. */
static gboolean texture_has_picture(GdkTexture *tex) {
  int w = gdk_texture_get_width(tex), h = gdk_texture_get_height(tex);
  guchar *px = g_malloc((size_t)w * h * 4);
  gdk_texture_download(tex, px, (gsize)w * 4);
  guint32 first = *(guint32 *)(void *)px;
  int distinct = 0;
  for (size_t i = 0; i < (size_t)w * h && distinct < 16; i += 97)
    if (*(guint32 *)(void *)(px + 4 * i) != first) distinct++;
  g_free(px);
  return distinct >= 16;
}

/* Returns 1 when written, 0 when the window is not painted yet (try again),
 * -1 on an error. */
static int save_screenshot(TsWindow *win, const char *path, GError **error) {
  GtkWidget *w = GTK_WIDGET(win);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *paintable = gtk_widget_paintable_new(w);
  GtkSnapshot *snap = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snap), width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(snap);
  g_object_unref(paintable);
  if (!node) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
    return 0;
  }
  GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(w));
  GdkTexture *tex = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  gsk_render_node_unref(node);
  if (!texture_has_picture(tex)) {
    g_object_unref(tex);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window is blank");
    return 0;
  }
  gboolean ok = gdk_texture_save_to_png(tex, path);
  g_object_unref(tex);
  if (!ok) g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", path);
  return ok ? 1 : -1;
}

/* Polls until every panel has finished its first work and nothing changed
 * for a few ticks (layout and drawing settle), then renders the window. */
static gboolean screenshot_tick(gpointer data) {
  GuiRun *run = data;
  TsWindow *win = run->win;
  gboolean ready = gtk_widget_get_mapped(GTK_WIDGET(win)) && !ts_window_is_busy(win) &&
                   ts_generate_panel_get_generation(ts_window_get_generate_panel(win)) > 0 &&
                   (!ts_homology_panel_has_image(ts_window_get_homology_panel(win)) ||
                    ts_homology_panel_get_generation(ts_window_get_homology_panel(win)) > 0) &&
                   ts_store_reader_get_state(ts_window_get_reader(win)) != TS_STORE_STATE_OPENING;
  run->quiet_ticks = ready ? run->quiet_ticks + 1 : 0;
  gboolean late = g_get_monotonic_time() - run->started > SCREENSHOT_TIMEOUT_S * G_USEC_PER_SEC;
  if (run->quiet_ticks < 4 && !late) return G_SOURCE_CONTINUE;
  GError *error = NULL;
  int saved = run->quiet_ticks >= 4 ? save_screenshot(win, run->opts->screenshot, &error) : 0;
  if (saved == 0 && !late) { /* not painted yet: the next tick tries again */
    g_clear_error(&error);
    return G_SOURCE_CONTINUE;
  }
  if (saved == 1) {
    run->status = 0;
  } else {
    g_printerr("toposcope: gui: no screenshot: %s\n",
               error ? error->message : "the window was not ready in time");
    g_clear_error(&error);
    run->status = 1;
  }
  gtk_window_destroy(GTK_WINDOW(win));
  g_application_quit(g_application_get_default());
  return G_SOURCE_REMOVE;
}

static void on_activate(GApplication *app, GuiRun *run) {
  if (run->win) {
    gtk_window_present(GTK_WINDOW(run->win));
    return;
  }
  const TsGuiOptions *o = run->opts;
  run->win = ts_window_new(GTK_APPLICATION(app), o->screenshot == NULL);
  if (o->store) ts_window_set_store(run->win, o->store);
  if (o->panel) ts_window_show_panel(run->win, o->panel);
  if (o->open) ts_window_open_image(run->win, o->open);
  if (o->panel && o->open) ts_window_show_panel(run->win, o->panel);
  gtk_window_present(GTK_WINDOW(run->win));
  if (o->screenshot) {
    run->started = g_get_monotonic_time();
    g_timeout_add(100, screenshot_tick, run);
  }
}

static void on_startup(GApplication *app, gpointer data) {
  (void)data;
  static const GActionEntry entries[] = {{.name = "quit", .activate = action_quit},
                                         {.name = "about", .activate = action_about}};
  g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
  struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
      {"app.quit", {"<Primary>q", NULL}},
      {"window.close", {"<Primary>w", NULL}},
      {"win.open", {"<Primary>o", NULL}},
      {"win.panel-generate", {"<Alt>1", NULL}},
      {"win.panel-homology", {"<Alt>2", NULL}},
      {"win.panel-train", {"<Alt>3", NULL}},
      {"win.panel-runs", {"<Alt>4", NULL}},
      {"win.panel-playground", {"<Alt>5", NULL}},
      {"win.panel-layers", {"<Alt>6", NULL}},
      {"win.panel-latent", {"<Alt>7", NULL}},
      {"win.open-store", {"<Primary><Shift>o", NULL}},
      {"win.shuffle", {"<Primary>r", NULL}},
      {"win.create-dataset", {"<Primary><Shift>n", NULL}},
      {"win.reset-view", {"<Primary>0", NULL}},
      {"win.zoom-in", {"<Primary>plus", "<Primary>equal", NULL}},
      {"win.zoom-out", {"<Primary>minus", NULL}},
      {"win.lifetime", {"<Primary>l", NULL}},
      {"win.clear-selection", {"<Primary><Shift>a", NULL}},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), accels[i].action, accels[i].accels);
}

int ts_gui_run(const TsGuiOptions *opts) {
  if (opts->panel && strcmp(opts->panel, "generate") != 0 && strcmp(opts->panel, "homology") != 0 &&
      strcmp(opts->panel, "train") != 0 && strcmp(opts->panel, "runs") != 0 && strcmp(opts->panel, "playground") != 0 &&
      strcmp(opts->panel, "layers") != 0 && strcmp(opts->panel, "latent") != 0) {
    g_printerr("toposcope: gui: unknown panel '%s' (generate, homology, train, runs, playground, layers, latent)\n",
               opts->panel);
    return 2;
  }
  ts_ui_resources_register();
  GuiRun run = {.opts = opts, .status = 0};
  /* non-unique: every `toposcope gui` is its own process (tests run several
   * at once, and a session bus is not required) */
  AdwApplication *app = adw_application_new(TS_APP_ID, G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app, "startup", G_CALLBACK(on_startup), NULL);
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), &run);
  int rc = g_application_run(G_APPLICATION(app), 0, NULL);
  g_object_unref(app);
  return opts->screenshot ? run.status : rc;
}
