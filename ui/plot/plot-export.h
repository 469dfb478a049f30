/* plot-export.h — every plot to PNG, SVG or PDF (Cairo surfaces) and its
 * data to CSV, plus the right-click menu and file chooser that offer it.
 *
 * A plot class calls ts_plot_class_add_export() in class_init with its two
 * exporters; its instances call ts_plot_export_attach() in init and
 * ts_plot_export_detach() in dispose. */
#ifndef TS_UI_PLOT_EXPORT_H
#define TS_UI_PLOT_EXPORT_H

#include <cairo.h>
#include <gtk/gtk.h>

typedef void (*TsPlotDrawFn)(cairo_t *cr, const void *data, int w, int h);

/* Draws fn(data) at w x h into path; the format follows the extension
 * (.png, .svg, .pdf; anything else is an error). */
gboolean ts_plot_export_file(TsPlotDrawFn fn, const void *data, int w, int h, const char *path, GError **error);

/* Whether the plot widget w is drawn under the dark style (its CSS text
 * colour is light); widgets pass it to ts_plot_set_dark around drawing. */
int ts_plot_widget_is_dark(GtkWidget *w);

/* Image export of a widget at its current size (or 640 x 480 if unrealised). */
typedef gboolean (*TsPlotExportImageFn)(GtkWidget *plot, const char *path, GError **error);
typedef gboolean (*TsPlotExportCsvFn)(GtkWidget *plot, const char *path, GError **error);

/* Installs the actions "plot.export-image" and "plot.export-csv" (each opens
 * a save dialog) and stores the exporters for them. */
void ts_plot_class_add_export(GtkWidgetClass *klass, TsPlotExportImageFn image, TsPlotExportCsvFn csv);
/* Adds a right-click (and long-press) popover menu with the export items. */
void ts_plot_export_attach(GtkWidget *plot);
/* Positions the popover; call from size_allocate. */
void ts_plot_export_allocate(GtkWidget *plot);
void ts_plot_export_detach(GtkWidget *plot);

#endif
