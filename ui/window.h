/* window.h — the workbench window: a header bar with a view switcher over
 * the panels (its subtitle names the open run store), a toast overlay for
 * messages, the window actions and their shortcuts, and the one store
 * reader the panels share. A run store file dropped on the window opens. The window's size, maximised state and panel are remembered
 * in $XDG_CONFIG_HOME/toposcope/window.ini (window-state.h). */
#ifndef TS_UI_WINDOW_H
#define TS_UI_WINDOW_H

#include <adwaita.h>

#include "generate-panel.h"
#include "homology-panel.h"
#include "latent-panel.h"
#include "layers-panel.h"
#include "playground-panel.h"
#include "runs-panel.h"
#include "store-reader.h"
#include "train-panel.h"

G_BEGIN_DECLS

#define TS_TYPE_WINDOW (ts_window_get_type())
G_DECLARE_FINAL_TYPE(TsWindow, ts_window, TS, WINDOW, AdwApplicationWindow)

/* remember: load and save the window state (off for screenshots and tests). */
TsWindow *ts_window_new(GtkApplication *app, gboolean remember);
void ts_window_show_panel(TsWindow *self, const char *name);
const char *ts_window_get_panel(TsWindow *self);
TsGeneratePanel *ts_window_get_generate_panel(TsWindow *self);
TsHomologyPanel *ts_window_get_homology_panel(TsWindow *self);
TsPlaygroundPanel *ts_window_get_playground_panel(TsWindow *self);
TsLayersPanel *ts_window_get_layers_panel(TsWindow *self);
TsLatentPanel *ts_window_get_latent_panel(TsWindow *self);
/* TRUE while a panel computes something. */
gboolean ts_window_is_busy(TsWindow *self);
void ts_window_toast(TsWindow *self, const char *text);
/* Opens path in the Homology panel and shows it. */
void ts_window_open_image(TsWindow *self, const char *path);
/* Opens another run store (NULL: the default) in every panel; the header
 * shows which store is open. */
void ts_window_set_store(TsWindow *self, const char *path);
TsTrainPanel *ts_window_get_train_panel(TsWindow *self);
TsRunsPanel *ts_window_get_runs_panel(TsWindow *self);
/* The live store reader the panels share (owned by the window). */
TsStoreReader *ts_window_get_reader(TsWindow *self);
/* What the header says of the store ("~/…/runs.sqlite (not created yet)"). */
const char *ts_window_get_store_label(TsWindow *self);

G_END_DECLS

#endif
