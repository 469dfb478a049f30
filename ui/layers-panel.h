/* layers-panel.h — the Layers panel: a probed network's topology across
 * training, live.
 *
 * For a run with probes (`toposcope train --probe ...` or `toposcope
 * probe`: the store series probe/lifespans, probe/phdim, probe/betti/dimK,
 * probe/avglife, probe/midlife and the blob probe/layers naming the rows),
 * it shows
 *   - a layer x epoch heat map of the lifespan sum (H0 or H1) or the PH
 *     dimension, and the same numbers as one line per layer against epoch;
 *   - the functional graph's Betti curves, one per probed epoch, coloured
 *     from light (first) to dark (last), the chosen epoch in red;
 *   - the graph's average life and midlife per dimension against epoch.
 * Clicking a heat-map cell (or moving the epoch scrubber) picks a layer and
 * an epoch: their values are spelled out and the epoch is marked on every
 * plot. Every read goes through the shared store reader (a query on its
 * worker); a running run is re-read whenever the store changes. */
#ifndef TS_UI_LAYERS_PANEL_H
#define TS_UI_LAYERS_PANEL_H

#include <gtk/gtk.h>

#include "plot/diagram-view.h"

#include "plot/heatmap-view.h"
#include "plot/line-plot.h"
#include "store-reader.h"

G_BEGIN_DECLS

#define TS_TYPE_LAYERS_PANEL (ts_layers_panel_get_type())
G_DECLARE_FINAL_TYPE(TsLayersPanel, ts_layers_panel, TS, LAYERS_PANEL, GtkBox)

void ts_layers_panel_set_reader(TsLayersPanel *self, TsStoreReader *reader);
/* Shows run id (as picking it in the run list does). */
void ts_layers_panel_show_run(TsLayersPanel *self, gint64 id);
gint64 ts_layers_panel_get_run(TsLayersPanel *self);
/* 0: lifespan sum H0, 1: lifespan sum H1, 2: PH dimension. */
void ts_layers_panel_set_measure(TsLayersPanel *self, int measure);
void ts_layers_panel_set_betti_dim(TsLayersPanel *self, int dim);
/* Picks layer (row) and epoch index (column), as a click on the map does. */
void ts_layers_panel_pick(TsLayersPanel *self, int layer, int epoch_index);

/* What is shown: probed epochs, layers, and results loaded so far. */
guint ts_layers_panel_get_n_epochs(TsLayersPanel *self);
guint ts_layers_panel_get_n_layers(TsLayersPanel *self);
guint ts_layers_panel_get_generation(TsLayersPanel *self);
gboolean ts_layers_panel_is_busy(TsLayersPanel *self);
/* The value shown for (layer, epoch index) of the current measure (NAN: none). */
double ts_layers_panel_get_value(TsLayersPanel *self, int layer, int epoch_index);
const char *ts_layers_panel_get_detail(TsLayersPanel *self);
TsHeatmapView *ts_layers_panel_get_heatmap(TsLayersPanel *self);
TsLinePlot *ts_layers_panel_get_layer_plot(TsLayersPanel *self);
TsLinePlot *ts_layers_panel_get_betti_plot(TsLayersPanel *self);
TsLinePlot *ts_layers_panel_get_life_plot(TsLayersPanel *self);
/* The chosen cell's diagram (probe/diagram/<layer> at its epoch) and the
 * functional graph's at the chosen epoch (probe/graph_diagram), read on the
 * reader's worker after each pick; empty with a note when not stored. */
TsDiagramView *ts_layers_panel_get_layer_diagram(TsLayersPanel *self);
TsDiagramView *ts_layers_panel_get_graph_diagram(TsLayersPanel *self);

/* Signal "message" (const char *text). */

G_END_DECLS

#endif
