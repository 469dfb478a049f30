/* window.c — the workbench window and its actions. */
#include "window.h"

#include <math.h>

#include "window-state.h"

struct _TsWindow {
  AdwApplicationWindow parent;
  GtkWidget *toast_overlay, *stack, *switcher_title, *header_bar;
  GtkWidget *generate_panel, *homology_panel, *playground_panel;
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

static void on_tile_activated(TsGeneratePanel *gp, guint index, TsWindow *self) {
  const TsImage *img = ts_generate_panel_get_tile(gp, index);
  if (!img) return;
  TsGenerateParams p;
  ts_generate_panel_get_params(gp, &p);
  char *name = g_strdup_printf("Generated image %u (seed %llu)", index, (unsigned long long)p.seed);
  if (self->picking_second) {
    self->picking_second = FALSE;
    if (self->pick_toast) adw_toast_dismiss(self->pick_toast);
    g_clear_object(&self->pick_toast);
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
  ts_window_show_panel(TS_WINDOW(w), g_str_has_suffix(name, "generate")     ? "generate"
                                     : g_str_has_suffix(name, "playground") ? "playground"
                                                                            : "homology");
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
  g_clear_object(&TS_WINDOW(o)->pick_toast);
  G_OBJECT_CLASS(ts_window_parent_class)->dispose(o);
}

static void ts_window_class_init(TsWindowClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = ts_window_dispose;
  g_type_ensure(TS_TYPE_GENERATE_PANEL);
  g_type_ensure(TS_TYPE_HOMOLOGY_PANEL);
  g_type_ensure(TS_TYPE_PLAYGROUND_PANEL);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/window.ui");
  gtk_widget_class_bind_template_child(wc, TsWindow, toast_overlay);
  gtk_widget_class_bind_template_child(wc, TsWindow, stack);
  gtk_widget_class_bind_template_child(wc, TsWindow, switcher_title);
  gtk_widget_class_bind_template_child(wc, TsWindow, header_bar);
  gtk_widget_class_bind_template_child(wc, TsWindow, generate_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, homology_panel);
  gtk_widget_class_bind_template_child(wc, TsWindow, playground_panel);
  gtk_widget_class_install_action(wc, "win.open", NULL, action_open);
  gtk_widget_class_install_action(wc, "win.panel-generate", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-homology", NULL, action_panel);
  gtk_widget_class_install_action(wc, "win.panel-playground", NULL, action_panel);
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
  if (g_str_equal(name, "generate") || g_str_equal(name, "homology") || g_str_equal(name, "playground"))
    adw_view_stack_set_visible_child_name(ADW_VIEW_STACK(self->stack), name);
}

const char *ts_window_get_panel(TsWindow *self) {
  const char *n = adw_view_stack_get_visible_child_name(ADW_VIEW_STACK(self->stack));
  return n ? n : "generate";
}

TsGeneratePanel *ts_window_get_generate_panel(TsWindow *self) { return TS_GENERATE_PANEL(self->generate_panel); }
TsHomologyPanel *ts_window_get_homology_panel(TsWindow *self) { return TS_HOMOLOGY_PANEL(self->homology_panel); }
TsPlaygroundPanel *ts_window_get_playground_panel(TsWindow *self) { return TS_PLAYGROUND_PANEL(self->playground_panel); }

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
}
