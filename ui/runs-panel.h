/* runs-panel.h — the Runs panel: every run of the store, live, and the
 * comparison of the runs selected.
 *
 * The list (kind, name, status, started, duration, progress, best
 * validation value) follows the shared store reader's snapshot, keeping the
 * selection as runs come, change and go; a search entry and a status filter
 * narrow it. Selecting runs overlays one metric they all have (one colour
 * per run, legend, smoothing and log from the line plot, x by step, epoch
 * or wall time, live while they run) and lays their parameters and final
 * metrics side by side, differences highlighted. The selected runs can be
 * exported as CSV (the format of `toposcope runs export`) or deleted (after
 * a confirmation; running ones are refused). Every read is a reader watch or
 * query: nothing here runs SQL on the main loop. */
#ifndef TS_UI_RUNS_PANEL_H
#define TS_UI_RUNS_PANEL_H

#include <gtk/gtk.h>

#include "plot/line-plot.h"
#include "store-reader.h"

G_BEGIN_DECLS

#define TS_TYPE_RUNS_PANEL (ts_runs_panel_get_type())
G_DECLARE_FINAL_TYPE(TsRunsPanel, ts_runs_panel, TS, RUNS_PANEL, GtkBox)

void ts_runs_panel_set_reader(TsRunsPanel *self, TsStoreReader *reader);
/* Runs shown (after the filter), and runs in the store's snapshot. */
guint ts_runs_panel_get_n_shown(TsRunsPanel *self);
/* Selects exactly these runs (those shown). */
void ts_runs_panel_select_runs(TsRunsPanel *self, const gint64 *ids, guint n);
void ts_runs_panel_set_search(TsRunsPanel *self, const char *text);
/* The overlay: metric (NULL keeps the current one) and x axis (0 step, 1 epoch, 2 wall time). */
void ts_runs_panel_set_overlay(TsRunsPanel *self, const char *metric, int x_axis);
const char *ts_runs_panel_get_overlay_metric(TsRunsPanel *self);
/* Series in the overlay and the points of series i. */
guint ts_runs_panel_get_overlay_series(TsRunsPanel *self);
guint ts_runs_panel_get_overlay_points(TsRunsPanel *self, guint i);
TsLinePlot *ts_runs_panel_get_overlay_plot(TsRunsPanel *self);
/* Rows of the parameter table whose values differ, once it is built (-1 before). */
int ts_runs_panel_get_n_differences(TsRunsPanel *self);
void ts_runs_panel_show_page(TsRunsPanel *self, const char *name); /* "metrics", "parameters" */

/* Signal "message" (const char *text): something to show in a toast. */

G_END_DECLS

#endif
