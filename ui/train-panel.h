/* train-panel.h — the Train panel: a form for each training workflow, the
 * exact command line it runs, and the runs it follows live.
 *
 * The form is built from the command's option table (run/train-options.h):
 * every option with its default as the placeholder and its --help text as
 * the tooltip. The command line under the form is the argv Start runs, as a
 * shell line to copy. Start runs it as a `toposcope` subprocess in a
 * session of its own, with its output in a log file, so closing the window
 * (or Ctrl+C in the terminal that started the workbench) never stops a run.
 *
 * The panel follows runs through the shared store reader (store-reader.h):
 * those it started, and every training run of the store still running when
 * it opens. The selected run's loss per step, accuracy per epoch, learning
 * rate and images per second are plotted as rows arrive. Stop sends SIGINT
 * to the run's process (it writes a checkpoint and shows as stopped);
 * Resume runs `toposcope train --resume` on the run's checkpoint; a failed
 * run shows its message. */
#ifndef TS_UI_TRAIN_PANEL_H
#define TS_UI_TRAIN_PANEL_H

#include <gtk/gtk.h>

#include "plot/line-plot.h"
#include "store-reader.h"

G_BEGIN_DECLS

#define TS_TYPE_TRAIN_PANEL (ts_train_panel_get_type())
G_DECLARE_FINAL_TYPE(TsTrainPanel, ts_train_panel, TS, TRAIN_PANEL, GtkBox)

void ts_train_panel_set_reader(TsTrainPanel *self, TsStoreReader *reader);
/* The toposcope binary Start runs (default: /proc/self/exe; tests set it). */
void ts_train_panel_set_program(TsTrainPanel *self, const char *path);

/* The form: workflow ("classify", "resume"), preset (by index, 0 = none),
 * and option values by name ("" or NULL: the default). */
gboolean ts_train_panel_set_workflow(TsTrainPanel *self, const char *id);
void ts_train_panel_apply_preset(TsTrainPanel *self, guint index);
void ts_train_panel_set_option(TsTrainPanel *self, const char *name, const char *value);
/* The shell line shown under the form (owned by the panel). */
const char *ts_train_panel_get_command_line(TsTrainPanel *self);
/* Starts the command of the form; FALSE (and a message) if the form is invalid. */
gboolean ts_train_panel_start(TsTrainPanel *self);

/* The runs followed, and the selected one (-1: none). */
guint ts_train_panel_get_n_followed(TsTrainPanel *self);
gint64 ts_train_panel_get_selected_run(TsTrainPanel *self);
void ts_train_panel_select_run(TsTrainPanel *self, gint64 run);
/* Run id of the n-th run started from this panel, once the store shows it (-1 before). */
gint64 ts_train_panel_get_started_run(TsTrainPanel *self, guint n);
/* Points in the selected run's loss plot. */
guint ts_train_panel_get_loss_points(TsTrainPanel *self);
TsLinePlot *ts_train_panel_get_loss_plot(TsTrainPanel *self);
void ts_train_panel_stop_run(TsTrainPanel *self, gint64 run);
void ts_train_panel_resume_run(TsTrainPanel *self, gint64 run);
/* The text the selected run's status line shows (for tests). */
const char *ts_train_panel_get_status_text(TsTrainPanel *self);

/* Signal "message" (const char *text): something to show in a toast. */

G_END_DECLS

#endif
