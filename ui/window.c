/* window.c — the workbench window and its actions. */
#include "window.h"

#include <math.h>
#include <string.h>

#include "window-state.h"

struct _TsWindow {
  AdwApplicationWindow parent;
  GtkWidget *toast_overlay, *stack, *switcher_title, *header_bar, *store_button, *store_label;
  GtkWidget *generate_panel, *homology_panel, *train_panel, *runs_panel, *playground_panel, *layers_panel,
      *latent_panel;
  TsStoreReader *reader; /* the one live reader every panel shares */
  gboolean remember;
  gboolean picking_second; /* the next preview clicked in Generate is the Homology panel's second image */
  AdwToast *pick_toast;     /* "click a preview", dismissed once one is */
};

G_DEFINE_FINAL_TYPE(TsWindow, ts_window, ADW_TYPE_APPLICATION_WINDOW)

void ts_window_toast(TsWindow *self, const char *text) {
  AdwToast *t = adw_toast_new(text);
  adw_toast_set_timeout(t, 5);
  adw_toast_overlay_add_toast(ADW_TOAST_OVERLAY(self->toast_overlay), t);
}

static void on_message(GtkWidget *panel, const char *text, TsWindow *self) {
  (void)panel;
  ts_window_toast(self, text);
}

static gboolean dismiss_toast(gpointer toast) {
  adw_toast_dismiss(toast);
  return G_SOURCE_REMOVE;
}

static void on_tile_activated(TsGeneratePanel *gp, guint index, TsWindow *self) {
  const TsImage *img = ts_generate_panel_get_tile(gp, index);
  if (!img) return;
  TsGenerateParams p;
  ts_generate_panel_get_params(gp, &p);
  char *name = g_strdup_printf("Generated image %u (seed %llu)", index, (unsigned long long)p.seed);
  if (self->picking_second) {
    self->picking_second = FALSE;
    /* dismissed from the main loop: a toast dismissed in the same turn as
     * it was queued crashed libadwaita 1.2 here (a use after free) */
    if (self->pick_toast) g_idle_add_full(G_PRIORITY_LOW, dismiss_toast, g_steal_pointer(&self->pick_toast), g_object_unref);
    ts_homology_panel_set_second_image(TS_HOMOLOGY_PANEL(self->homology_panel), img, name);
  } else {
    ts_homology_panel_set_image(TS_HOMOLOGY_PANEL(self->homology_panel), img, name);
  }
  g_free(name);
  ts_window_show_panel(self, "homology");
}

/* The Homology panel is never empty: until an image is chosen it shows the
 * first preview of the Generate panel. */
static void on_generate_busy(TsGeneratePanel *gp, GParamSpec *ps, TsWindow *self) {
  (void)ps;
  if (ts_generate_panel_is_busy(gp) || ts_homology_panel_has_image(TS_HOMOLOGY_PANEL(self->homology_panel))) return;
  const TsImage *img = ts_generate_panel_get_tile(gp, 0);
  if (!img) return;
  TsGenerateParams p;
  ts_generate_panel_get_params(gp, &p);
  char *name = g_strdup_printf("Generated image 0 (seed %llu)", (unsigned long long)p.seed);
  ts_homology_panel_set_image(TS_HOMOLOGY_PANEL(self->homology_panel), img, name);
  g_free(name);
}

static void on_pick_second(TsHomologyPanel *hp, TsWindow *self) {
  (void)hp;
  self->picking_second = TRUE;
  ts_window_show_panel(self, "generate");
  g_clear_object(&self->pick_toast);
  self->pick_toast = adw_toast_new("Click a preview to compare the Homology panel's image with it");
  adw_toast_set_timeout(self->pick_toast, 0); /* until a preview is clicked */
  adw_toast_overlay_add_toast(ADW_TOAST_OVERLAY(self->toast_overlay), g_object_ref(self->pick_toast));
}

/* --- actions --------------------------------------------------------------- */

static void on_open_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsWindow *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    if (path) ts_window_open_image(self, path);
    g_free(path);
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
}

static void action_open(GtkWidget *w, const char *name, GVariant *param) {
  (void)name, (void)param;
  GtkFileChooserNative *d =
      gtk_file_chooser_native_new("Open Image", GTK_WINDOW(w), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Images (JPEG, PNG, PGM/PPM, NumPy)");
  const char *pats[] = {"*.jpg", "*.jpeg", "*.png", "*.pgm", "*.ppm", "*.pnm", "*.npy", "*.JPG", "*.PNG"};
  for (size_t i = 0; i < G_N_ELEMENTS(pats); i++) gtk_file_filter_add_pattern(f, pats[i]);
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_open_response), w);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void action_panel(GtkWidget *w, const char *name, GVariant *param) {
  (void)param;
  ts_window_show_panel(TS_WINDOW(w), strrchr(name, '-') + 1);
}

/* --- the run store ---------------------------------------------------------- */

/* "~/…" for the header: the path says which store, the home folder is noise. */
static char *display_path(const char *path) {
  const char *home = g_get_home_dir();
  size_t n = home ? strlen(home) : 0;
  if (n && !strncmp(path, home, n) && path[n] == '/') return g_strconcat("~", path + n, NULL);
  return g_strdup(path);
}

static void update_store_title(TsWindow *self) {
  const char *path = ts_store_reader_get_path(self->reader);
  char *shown = path ? display_path(path) : g_strdup("no run store");
  TsStoreState st = ts_store_reader_get_state(self->reader);
  char *sub = st == TS_STORE_STATE_MISSING ? g_strdup_printf("%s (not created yet)", shown)
              : st == TS_STORE_STATE_ERROR ? g_strdup_printf("%s (cannot be read)", shown)
                                           : g_strdup(shown);
  adw_view_switcher_title_set_subtitle(ADW_VIEW_SWITCHER_TITLE(self->switcher_title), sub);
  /* the switcher hides its subtitle in a wide window: the store also has a
   * button of its own at the start of the header */
  /* the button is narrow: the file's name (and its state), the path is in
   * the tooltip and the switcher's subtitle */
  char *base = path ? g_path_get_basename(path) : g_strdup("no run store");
  char *label = st == TS_STORE_STATE_MISSING ? g_strdup_printf("%s (new)", base)
                : st == TS_STORE_STATE_ERROR ? g_strdup_printf("%s (unreadable)", base)
                                             : g_strdup(base);
  gtk_label_set_text(GTK_LABEL(self->store_label), label);
  g_free(label);
  g_free(base);
  char *tip = g_strdup_printf("Run store: %s\nClick (Ctrl+Shift+O) or drop a file on the window to open another",
                              path ? path : "none");
  gtk_widget_set_tooltip_text(self->store_button, tip);
  g_free(tip);
  g_free(sub);
  g_free(shown);
}

static void on_store_changed(TsStoreReader *r, TsWindow *self) {
  (void)r;
  update_store_title(self);
}

/* Whether path is an SQLite file (a run store, or something we will refuse
 * with a clear message) rather than an image. */
static gboolean looks_like_store(const char *path) {
  char head[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return g_str_has_suffix(path, ".sqlite") || g_str_has_suffix(path, ".db");
  size_t got = fread(head, 1, sizeof head, f);
  fclose(f);
  return got == 16 && !memcmp(head, "SQLite format 3", 16);
}

static void on_store_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsWindow *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    if (path) ts_window_set_store(self, path);
    g_free(path);
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
}

static void action_open_store(GtkWidget *w, const char *name, GVariant *param) {
  (void)name, (void)param;
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Open Run Store", GTK_WINDOW(w), GTK_FILE_CHOOSER_ACTION_OPEN,
                                                        "_Open", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Run stores (SQLite)");
  gtk_file_filter_add_pattern(f, "*.sqlite");
  gtk_file_filter_add_pattern(f, "*.db");
  gtk_file_filter_add_mime_type(f, "application/vnd.sqlite3");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_store_response), w);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void action_default_store(GtkWidget *w, const char *name, GVariant *param) {
  (void)name, (void)param;
  ts_window_set_store(TS_WINDOW(w), NULL);
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, TsWindow *self) {
  (void)t, (void)x, (void)y;
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) return FALSE;
  GSList *files = g_value_get_boxed(value);
  if (!files) return FALSE;
  char *path = g_file_get_path(files->data);
  if (!path) return FALSE;
  if (looks_like_store(path)) {
    ts_window_set_store(self, path);
    ts_window_show_panel(self, "runs");
  } else {
    ts_window_open_image(self, path);
  }
  g_free(path);
  return TRUE;
}

static void action_shuffle(GtkWidget *w, const char *name, GVariant *param) {
  (void)name, (void)param;
  ts_generate_panel_shuffle(TS_GENERATE_PANEL(TS_WINDOW(w)->generate_panel));
}

static void action_create_dataset(GtkWidget *w, const char *name, GVariant *param) {
  (void)name, (void)param;
  ts_window_show_panel(TS_WINDOW(w), "generate");
  ts_generate_panel_create_dataset(TS_GENERATE_PANEL(TS_WINDOW(w)->generate_panel));
}

static void action_diagram(GtkWidget *w, const char *name, GVariant *param) {
  (void)param;
  TsDiagramView *dv = ts_homology_panel_get_diagram_view(TS_HOMOLOGY_PANEL(TS_WINDOW(w)->homology_panel));
  if (g_str_equal(name, "win.reset-view")) ts_diagram_view_reset_view(dv);
  else if (g_str_equal(name, "win.lifetime")) ts_homology_panel_toggle_lifetime(TS_HOMOLOGY_PANEL(TS_WINDOW(w)->homology_panel));
  else if (g_str_equal(name, "win.clear-selection"))
    ts_homology_panel_select_pair(TS_HOMOLOGY_PANEL(TS_WINDOW(w)->homology_panel), -1);
  else ts_diagram_view_zoom(dv, g_str_equal(name, "win.zoom-in") ? 1 / 1.25 : 1.25, NAN, NAN);
}

/* --- object ---------------------------------------------------------------- */

static gboolean on_close_request(GtkWindow *w, gpointer data) {
  (void)data;
  TsWindow *self = TS_WINDOW(w);
  if (!self->remember) return FALSE;
  TsWindowState st = {0};
  gtk_window_get_default_size(w, &st.width, &st.height);
  st.maximized = gtk_window_is_maximized(w);
  g_strlcpy(st.panel, ts_window_get_panel(self), sizeof st.panel);
  GError *error = NULL;
  if (!ts_window_state_save(&st, &error)) {
    g_warning("cannot remember the window state: %s", error->message);
    g_error_free(error);
  }
  return FALSE;
}

static void ts_window_dispose(GObject *o) {
  TsWindow *self = TS_WINDOW(o);
  g_clear_object(&self->pick_toast);
  if (self->reader) g_signal_handlers_disconnect_by_data(self->reader, self);
  /* a panel's worker may still finish after the window is gone */
  GtkWidget *panels[] = {self->generate_panel, self->homology_panel, self->train_panel, self->runs_panel};
  for (size_t i = 0; i < G_N_ELEMENTS(panels); i++)
    if (panels[i]) g_signal_handlers_disconnect_by_data(panels[i], self);
  gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_WINDOW);
  g_clear_object(&self->reader);
  G_OBJECT_CLASS(ts_window_parent_class)->dispose(o);
}

static void ts_window_class_init(TsWindowClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = ts_window_dispose;
  g_type_ensure(TS_TYPE_GENERATE_PANEL);
  g_type_ensure(TS_TYPE_HOMOLOGY_PANEL);
  g_type_ensure(TS_TYPE_TRAIN_PANEL);
  g_type_ensure(TS_TYPE_RUNS_PANEL);
  g_type_ensure(TS_TYPE_PLAYGROUND_PANEL);
  g_type_ensure(TS_TYPE_LAYERS_PANEL);
  g_type_ensure(TS_TYPE_LATENT_PANEL);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/window.ui");
  gtk_widget_class_bind_template_child(wc, TsWindow, toast_overlay);
  gtk_widget_class_bind_template_child(wc, TsWindow, stack);
  gtk_widget_class_bind_template_child(wc, TsWindow, switcher_title);
  gtk_widget_class_bind_template_child(wc, TsWindow, header_bar);
  gtk_widget_class_bind_template_child(wc, TsWindow, store_button);
  gtk_widget_class_bind_template_child(wc, TsWindow, store_label);
  gtk_widget_class_bind_template_child(wc, TsWindow, generate_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, homology_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, train_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, runs_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, playground_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, layers_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, latent_panel);
  gtk_widget_class_install_action(wc, "win.open", NULL, action_open);
  gtk_widget_class_install_action(wc, "win.panel-generate", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-homology", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-train", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-runs", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-playground", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-layers", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-latent", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.open-store", NULL, action_open_store);
  gtk_widget_class_install_action(wc, "win.default-store", NULL, action_default_store);
  gtk_widget_class_install_action(wc, "win.shuffle", NULL, action_shuffle);
  gtk_widget_class_install_action(wc, "win.create-dataset", NULL, action_create_dataset);
  gtk_widget_class_install_action(wc, "win.reset-view", NULL, action_diagram);
  gtk_widget_class_install_action(wc, "win.zoom-in", NULL, action_diagram);
  gtk_widget_class_install_action(wc, "win.zoom-out", NULL, action_diagram);
  gtk_widget_class_install_action(wc, "win.lifetime", NULL, action_diagram);
  gtk_widget_class_install_action(wc, "win.clear-selection", NULL, action_diagram);
}

static void ts_window_init(TsWindow *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  g_signal_connect(self->generate_panel, "message", G_CALLBACK(on_message), self);
  g_signal_connect(self->homology_panel, "message", G_CALLBACK(on_message), self);
  g_signal_connect(self->playground_panel, "message", G_CALLBACK(on_message), self);
  g_signal_connect(self->generate_panel, "tile-activated", G_CALLBACK(on_tile_activated), self);
  g_signal_connect(self->homology_panel, "pick-second", G_CALLBACK(on_pick_second), self);
  g_signal_connect(self->generate_panel, "notify::busy", G_CALLBACK(on_generate_busy), self);
  g_signal_connect(self, "close-request", G_CALLBACK(on_close_request), NULL);
  g_signal_connect(self->train_panel, "message", G_CALLBACK(on_message), self);
  g_signal_connect(self->runs_panel, "message", G_CALLBACK(on_message), self);
  self->reader = ts_store_reader_new(NULL, 0);
  g_signal_connect(self->reader, "store-changed", G_CALLBACK(on_store_changed), self);
  ts_train_panel_set_reader(TS_TRAIN_PANEL(self->train_panel), self->reader);
  ts_runs_panel_set_reader(TS_RUNS_PANEL(self->runs_panel), self->reader);
  ts_layers_panel_set_reader(TS_LAYERS_PANEL(self->layers_panel), self->reader);
  g_signal_connect(self->layers_panel, "message", G_CALLBACK(on_message), self);
  ts_latent_panel_set_reader(TS_LATENT_PANEL(self->latent_panel), self->reader);
  g_signal_connect(self->latent_panel, "message", G_CALLBACK(on_message), self);
  update_store_title(self);
  /* a store file dropped anywhere opens it; an image opens in Homology */
  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}

TsWindow *ts_window_new(GtkApplication *app, gboolean remember) {
  TsWindow *self = g_object_new(TS_TYPE_WINDOW, "application", app, NULL);
  self->remember = remember;
  if (remember) {
    TsWindowState st;
    ts_window_state_load(&st);
    if (st.width > 0) gtk_window_set_default_size(GTK_WINDOW(self), st.width, st.height);
    if (st.maximized) gtk_window_maximize(GTK_WINDOW(self));
    if (st.panel[0]) ts_window_show_panel(self, st.panel);
  }
  return self;
}

void ts_window_show_panel(TsWindow *self, const char *name) {
  if (g_str_equal(name, "generate") || g_str_equal(name, "homology") || g_str_equal(name, "train") ||
      g_str_equal(name, "runs") || g_str_equal(name, "playground") || g_str_equal(name, "layers") ||
      g_str_equal(name, "latent"))
    adw_view_stack_set_visible_child_name(ADW_VIEW_STACK(self->stack), name);
}

const char *ts_window_get_panel(TsWindow *self) {
  const char *n = adw_view_stack_get_visible_child_name(ADW_VIEW_STACK(self->stack));
  return n ? n : "generate";
}

TsGeneratePanel *ts_window_get_generate_panel(TsWindow *self) { return TS_GENERATE_PANEL(self->generate_panel); }
TsHomologyPanel *ts_window_get_homology_panel(TsWindow *self) { return TS_HOMOLOGY_PANEL(self->homology_panel); }
TsPlaygroundPanel *ts_window_get_playground_panel(TsWindow *self) { return TS_PLAYGROUND_PANEL(self->playground_panel); }
TsLayersPanel *ts_window_get_layers_panel(TsWindow *self) { return TS_LAYERS_PANEL(self->layers_panel); }
TsLatentPanel *ts_window_get_latent_panel(TsWindow *self) { return TS_LATENT_PANEL(self->latent_panel); }

gboolean ts_window_is_busy(TsWindow *self) {
  return ts_generate_panel_is_busy(TS_GENERATE_PANEL(self->generate_panel)) ||
         ts_homology_panel_is_busy(TS_HOMOLOGY_PANEL(self->homology_panel));
}

void ts_window_open_image(TsWindow *self, const char *path) {
  ts_homology_panel_open_file(TS_HOMOLOGY_PANEL(self->homology_panel), path);
  ts_window_show_panel(self, "homology");
}

void ts_window_set_store(TsWindow *self, const char *path) {
  ts_generate_panel_set_store(TS_GENERATE_PANEL(self->generate_panel), path);
  ts_store_reader_set_path(self->reader, path);
  update_store_title(self);
}

TsTrainPanel *ts_window_get_train_panel(TsWindow *self) { return TS_TRAIN_PANEL(self->train_panel); }
TsRunsPanel *ts_window_get_runs_panel(TsWindow *self) { return TS_RUNS_PANEL(self->runs_panel); }
TsStoreReader *ts_window_get_reader(TsWindow *self) { return self->reader; }
const char *ts_window_get_store_label(TsWindow *self) { return gtk_label_get_text(GTK_LABEL(self->store_label)); }
