/* generate-panel.h — the Generate panel: every parameter of `toposcope
 * generate` as a control, a live preview grid, and "Create dataset…".
 *
 * Previews are made on a worker thread (GTask) with core/image/generate.h;
 * each change of a control cancels the stale request, so dragging a slider
 * shows the newest value. A dataset is made by a `toposcope generate`
 * subprocess (this same binary), whose progress is read from the run store
 * by a worker; the cancel button stops it with SIGINT (the run is then
 * recorded as stopped and can be resumed from the command line). */
#ifndef TS_UI_GENERATE_PANEL_H
#define TS_UI_GENERATE_PANEL_H

#include <gtk/gtk.h>

#include "image/generate.h"
#include "image/image.h"

G_BEGIN_DECLS

#define TS_GENERATE_PANEL_TILES 12

#define TS_TYPE_GENERATE_PANEL (ts_generate_panel_get_type())
G_DECLARE_FINAL_TYPE(TsGeneratePanel, ts_generate_panel, TS, GENERATE_PANEL, GtkBox)

/* The parameters the controls show now. */
void ts_generate_panel_get_params(TsGeneratePanel *self, TsGenerateParams *p);
void ts_generate_panel_set_seed(TsGeneratePanel *self, guint64 seed);
void ts_generate_panel_set_size(TsGeneratePanel *self, int size);
void ts_generate_panel_shuffle(TsGeneratePanel *self);
/* TRUE while previews are being made ("busy" property). */
gboolean ts_generate_panel_is_busy(TsGeneratePanel *self);
/* How many preview sets have been shown so far. */
guint ts_generate_panel_get_generation(TsGeneratePanel *self);
/* Preview i (index i of the training stream); NULL before the first set. */
const TsImage *ts_generate_panel_get_tile(TsGeneratePanel *self, guint i);
/* The run store the dataset job records into (NULL: the default). */
void ts_generate_panel_set_store(TsGeneratePanel *self, const char *path);
void ts_generate_panel_set_folder(TsGeneratePanel *self, const char *path);
/* The toposcope binary the job runs (default: this process's own
 * executable, /proc/self/exe; tests, which are another program, set it). */
void ts_generate_panel_set_program(TsGeneratePanel *self, const char *path);
/* Training and validation image counts of the dataset. */
void ts_generate_panel_set_counts(TsGeneratePanel *self, int train, int val);
/* Starts `toposcope generate` (asks for a folder first if none is set). */
void ts_generate_panel_create_dataset(TsGeneratePanel *self);
gboolean ts_generate_panel_job_running(TsGeneratePanel *self);
void ts_generate_panel_cancel_job(TsGeneratePanel *self);

/* Signals: "tile-activated" (guint index): a preview was clicked.
 *          "message" (const char *text): something to show in a toast. */

G_END_DECLS

#endif
