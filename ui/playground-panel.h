/* playground-panel.h — the Playground: topology of 2D point clouds, live.
 *
 * In the spirit of TensorFlow Playground, for a class: draw or load a cloud
 * and a target, see both Rips diagrams and barcodes and the bottleneck (or
 * W2) matching between them, scrub the scale r and watch the complex grow
 * on the canvas with beta0(r) and beta1(r), then press Play and let Adam move
 * the points down Topo-GEN's topological losses (core/topo) while the loss
 * curve grows and the diagrams follow.
 *
 * Threads: one worker per panel owns the optimiser and computes every
 * diagram and matching; the main loop only copies the newest snapshot (the
 * worker replaces an unread one, so a slow frame never queues work). Edits
 * made while playing are handed to the worker, which adopts them and
 * restarts Adam's moments. The whole state (points, target, losses, step)
 * saves to and loads from a small JSON file (playground-state.h); frames
 * (canvas and matching side by side) can be recorded as numbered PNGs. */
#ifndef TS_UI_PLAYGROUND_PANEL_H
#define TS_UI_PLAYGROUND_PANEL_H

#include <gtk/gtk.h>

#include "playground-state.h"
#include "plot/barcode-view.h"
#include "plot/line-plot.h"
#include "plot/matching-view.h"
#include "point-canvas.h"

G_BEGIN_DECLS

#define TS_TYPE_PLAYGROUND_PANEL (ts_playground_panel_get_type())
G_DECLARE_FINAL_TYPE(TsPlaygroundPanel, ts_playground_panel, TS, PLAYGROUND_PANEL, GtkBox)

/* Loads a preset (see playground-state.h) into the cloud (which = 0) or the
 * target (1); a Topo-GEN test fills both and sets its learning rate. */
void ts_playground_panel_load_preset(TsPlaygroundPanel *self, const char *id, int which);
/* The state as shown (points, target, weights, lr, step, r, metric). The
 * returned state is a copy the caller clears. */
void ts_playground_panel_get_state(TsPlaygroundPanel *self, TsPlaygroundState *out);
/* Replaces everything by s (copied); playing stops. */
void ts_playground_panel_set_state(TsPlaygroundPanel *self, const TsPlaygroundState *s);
gboolean ts_playground_panel_save(TsPlaygroundPanel *self, const char *path, GError **error);
gboolean ts_playground_panel_load(TsPlaygroundPanel *self, const char *path, GError **error);
/* The canvas and the matching side by side, as the screen shows them. */
gboolean ts_playground_panel_export_frame(TsPlaygroundPanel *self, const char *path, GError **error);
/* While a folder is set, every snapshot shown is also written there as
 * frame-000000.png, frame-000001.png, ... (NULL stops). */
void ts_playground_panel_record(TsPlaygroundPanel *self, const char *folder);

void ts_playground_panel_set_r(TsPlaygroundPanel *self, double r);
void ts_playground_panel_set_metric(TsPlaygroundPanel *self, int w2);
void ts_playground_panel_set_weights(TsPlaygroundPanel *self, const double w[TS_PLAYGROUND_LOSSES]);
void ts_playground_panel_set_lr(TsPlaygroundPanel *self, double lr);
void ts_playground_panel_play(TsPlaygroundPanel *self, gboolean on);
gboolean ts_playground_panel_is_playing(TsPlaygroundPanel *self);
/* Runs n optimiser steps (the worker does them; the result arrives later). */
void ts_playground_panel_step(TsPlaygroundPanel *self, int n);

/* What is shown now. */
int64_t ts_playground_panel_get_step(TsPlaygroundPanel *self);
/* Snapshots shown so far (each has diagrams matching its points). */
guint ts_playground_panel_get_generation(TsPlaygroundPanel *self);
/* TRUE while the worker has work it has not shown yet. */
gboolean ts_playground_panel_is_busy(TsPlaygroundPanel *self);
double ts_playground_panel_get_distance(TsPlaygroundPanel *self);
double ts_playground_panel_get_loss(TsPlaygroundPanel *self);
/* Steps per second over the last second of playing (0 when paused). */
double ts_playground_panel_get_rate(TsPlaygroundPanel *self);
int ts_playground_panel_get_betti(TsPlaygroundPanel *self, int which, int k);
const TsDiagram *ts_playground_panel_get_diagram(TsPlaygroundPanel *self, int which);
const TsCloud *ts_playground_panel_get_cloud(TsPlaygroundPanel *self, int which);
TsPointCanvas *ts_playground_panel_get_canvas(TsPlaygroundPanel *self);
TsMatchingView *ts_playground_panel_get_matching_view(TsPlaygroundPanel *self);
TsBarcodeView *ts_playground_panel_get_barcode_view(TsPlaygroundPanel *self, int which);
TsLinePlot *ts_playground_panel_get_loss_plot(TsPlaygroundPanel *self);

/* Signal "message" (const char *text): errors and notes for a toast. */

G_END_DECLS

#endif
