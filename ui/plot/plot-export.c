/* plot-export.c — PNG/SVG/PDF through Cairo surfaces; CSV by the plots. */
#include "plot/plot-export.h"
#include "plot/plot-common.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <string.h>

gboolean ts_plot_export_file(TsPlotDrawFn fn, const void *data, int w, int h, const char *path, GError **error) {
  const char *dot = strrchr(path, '.');
  char ext[8] = "";
  if (dot && strlen(dot + 1) < sizeof ext) {
    for (size_t i = 0; dot[1 + i]; i++) ext[i] = (char)g_ascii_tolower(dot[1 + i]);
  }
  cairo_surface_t *s;
  if (!strcmp(ext, "png")) s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  else if (!strcmp(ext, "svg")) s = cairo_svg_surface_create(path, w, h);
  else if (!strcmp(ext, "pdf")) s = cairo_pdf_surface_create(path, w, h);
  else {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "cannot export to '%s': unknown format (use .png, .svg or .pdf)", path);
    return FALSE;
  }
  cairo_t *cr = cairo_create(s);
  int dark = ts_plot_get_dark();
  ts_plot_set_dark(0); /* files are paper */
  fn(cr, data, w, h);
  ts_plot_set_dark(dark);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  if (st == CAIRO_STATUS_SUCCESS && !strcmp(ext, "png")) st = cairo_surface_write_to_png(s, path);
  cairo_surface_finish(s);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s': %s", path, cairo_status_to_string(st));
    return FALSE;
  }
  return TRUE;
}

int ts_plot_widget_is_dark(GtkWidget *w) {
  GdkRGBA c;
  /* the text colour of the card the plot sits on: light ink means a dark card */
  gtk_style_context_get_color(gtk_widget_get_style_context(w), &c);
  return 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue > 0.5;
}

typedef struct {
  TsPlotExportImageFn image;
  TsPlotExportCsvFn csv;
} Exporters;

static GQuark exporters_quark(void) { return g_quark_from_static_string("ts-plot-exporters"); }
static GQuark menu_quark(void) { return g_quark_from_static_string("ts-plot-menu"); }

static const Exporters *find_exporters(GtkWidget *w) {
  for (GType t = G_OBJECT_TYPE(w); t; t = g_type_parent(t)) {
    const Exporters *e = g_type_get_qdata(t, exporters_quark());
    if (e) return e;
  }
  return NULL;
}

static void show_error(GtkWidget *plot, const char *msg) {
  GtkRoot *root = gtk_widget_get_root(plot);
  GtkWidget *d = gtk_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, GTK_DIALOG_MODAL,
                                        GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Export failed");
  gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", msg);
  g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

typedef struct {
  GtkWidget *plot;
  gboolean csv;
} DialogCtx;

static void on_save_response(GtkNativeDialog *dialog, int response, gpointer user_data) {
  DialogCtx *ctx = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    const Exporters *e = find_exporters(ctx->plot);
    GError *error = NULL;
    if (path && e) {
      gboolean ok = ctx->csv ? e->csv(ctx->plot, path, &error) : e->image(ctx->plot, path, &error);
      if (!ok) {
        show_error(ctx->plot, error ? error->message : "unknown error");
        g_clear_error(&error);
      }
    }
    g_free(path);
    if (file) g_object_unref(file);
  }
  g_object_unref(ctx->plot);
  g_free(ctx);
  g_object_unref(dialog);
}

static void export_action(GtkWidget *plot, const char *action_name, GVariant *param) {
  (void)param;
  gboolean csv = g_str_equal(action_name, "plot.export-csv");
  GtkRoot *root = gtk_widget_get_root(plot);
  GtkFileChooserNative *d =
      gtk_file_chooser_native_new(csv ? "Export Data" : "Export Plot", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                  GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), csv ? "plot.csv" : "plot.png");
  if (!csv) {
    const char *names[3] = {"PNG image", "SVG drawing", "PDF document"};
    const char *pats[3] = {"*.png", "*.svg", "*.pdf"};
    for (int i = 0; i < 3; i++) {
      GtkFileFilter *f = gtk_file_filter_new();
      gtk_file_filter_set_name(f, names[i]);
      gtk_file_filter_add_pattern(f, pats[i]);
      gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
      g_object_unref(f);
    }
  }
  DialogCtx *ctx = g_new0(DialogCtx, 1);
  ctx->plot = g_object_ref(plot);
  ctx->csv = csv;
  g_signal_connect(d, "response", G_CALLBACK(on_save_response), ctx);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

void ts_plot_class_add_export(GtkWidgetClass *klass, TsPlotExportImageFn image, TsPlotExportCsvFn csv) {
  Exporters *e = g_new0(Exporters, 1); /* lives as long as the type */
  e->image = image;
  e->csv = csv;
  g_type_set_qdata(G_TYPE_FROM_CLASS(klass), exporters_quark(), e);
  gtk_widget_class_install_action(klass, "plot.export-image", NULL, export_action);
  gtk_widget_class_install_action(klass, "plot.export-csv", NULL, export_action);
}

static void on_secondary(GtkGestureClick *g, int n, double x, double y, gpointer user_data) {
  (void)n;
  GtkWidget *plot = user_data;
  GtkWidget *menu = g_object_get_qdata(G_OBJECT(plot), menu_quark());
  if (!menu) return;
  GdkRectangle r = {(int)x, (int)y, 1, 1};
  gtk_popover_set_pointing_to(GTK_POPOVER(menu), &r);
  gtk_popover_popup(GTK_POPOVER(menu));
  gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
}

void ts_plot_export_attach(GtkWidget *plot) {
  GMenu *model = g_menu_new();
  g_menu_append(model, "Export Image (PNG, SVG, PDF)…", "plot.export-image");
  g_menu_append(model, "Export Data as CSV…", "plot.export-csv");
  GtkWidget *menu = gtk_popover_menu_new_from_model(G_MENU_MODEL(model));
  g_object_unref(model);
  gtk_popover_set_has_arrow(GTK_POPOVER(menu), FALSE);
  gtk_widget_set_halign(menu, GTK_ALIGN_START);
  gtk_widget_set_parent(menu, plot);
  g_object_set_qdata(G_OBJECT(plot), menu_quark(), menu);
  GtkGesture *click = gtk_gesture_click_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
  g_signal_connect(click, "pressed", G_CALLBACK(on_secondary), plot);
  gtk_widget_add_controller(plot, GTK_EVENT_CONTROLLER(click));
}

void ts_plot_export_allocate(GtkWidget *plot) {
  GtkWidget *menu = g_object_get_qdata(G_OBJECT(plot), menu_quark());
  if (menu) gtk_popover_present(GTK_POPOVER(menu));
}

void ts_plot_export_detach(GtkWidget *plot) {
  GtkWidget *menu = g_object_get_qdata(G_OBJECT(plot), menu_quark());
  if (menu) {
    g_object_set_qdata(G_OBJECT(plot), menu_quark(), NULL);
    gtk_widget_unparent(menu);
  }
}
