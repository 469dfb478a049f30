/* latent-panel.h — the Latent panel: a VAE / TopoVAE run's latent space.
 *
 * For a `toposcope train --task vae` run (live or finished) it reads the
 * store series topovae/latent and, with --lockstep, vae/latent (N x (latent
 * + 1): the latent means of the first N validation images, then their
 * class; one row set per epoch), the blob vae/grid (PNG: inputs, both
 * models' reconstructions and samples) and the metrics topovae/bce,
 * vae/bce, topovae/val_bce, vae/val_bce, and shows
 *   - the latent means as a scatter coloured by class, projected on the
 *     first two principal components (each model's own PCA) or on two
 *     chosen latent dimensions, VAE and TopoVAE side by side;
 *   - an epoch scrubber over the epochs recorded;
 *   - that epoch's picture grid and both models' BCE curves;
 *   - on demand, the Rips diagrams (H0, H1) of one class's latent cloud in
 *     both models, with the bottleneck matching between them.
 * Reads go through the shared store reader's worker; the Rips diagrams are
 * computed on a worker thread of their own. */
#ifndef TS_UI_LATENT_PANEL_H
#define TS_UI_LATENT_PANEL_H

#include <gtk/gtk.h>

#include "plot/line-plot.h"
#include "plot/matching-view.h"
#include "plot/scatter-view.h"
#include "store-reader.h"

G_BEGIN_DECLS

#define TS_TYPE_LATENT_PANEL (ts_latent_panel_get_type())
G_DECLARE_FINAL_TYPE(TsLatentPanel, ts_latent_panel, TS, LATENT_PANEL, GtkBox)

void ts_latent_panel_set_reader(TsLatentPanel *self, TsStoreReader *reader);
void ts_latent_panel_show_run(TsLatentPanel *self, gint64 id);
gint64 ts_latent_panel_get_run(TsLatentPanel *self);
/* Epoch index among those recorded (0 = the first). */
void ts_latent_panel_set_epoch(TsLatentPanel *self, int index);
/* 0: PCA; 1: latent dimensions dx and dy. */
void ts_latent_panel_set_projection(TsLatentPanel *self, int mode, int dx, int dy);
/* Class whose points are drawn on top (-1: none) and whose cloud the Rips
 * diagrams are of. */
void ts_latent_panel_set_class(TsLatentPanel *self, int label);
/* Computes the chosen class's Rips diagrams (result arrives later). */
void ts_latent_panel_compute_diagrams(TsLatentPanel *self);

guint ts_latent_panel_get_n_epochs(TsLatentPanel *self);
guint ts_latent_panel_get_generation(TsLatentPanel *self);
guint ts_latent_panel_get_diagram_generation(TsLatentPanel *self);
gboolean ts_latent_panel_is_busy(TsLatentPanel *self);
/* The 2D points shown for model 0 (VAE) or 1 (TopoVAE), n of them (NULL: none). */
const double *ts_latent_panel_get_points(TsLatentPanel *self, int model, size_t *n);
/* The epoch shown as stored: n rows of dim + 1 values (the latent mean,
 * then the class). */
const double *ts_latent_panel_get_latent(TsLatentPanel *self, int model, size_t *n, size_t *dim);
TsScatterView *ts_latent_panel_get_scatter(TsLatentPanel *self, int model);
TsMatchingView *ts_latent_panel_get_matching_view(TsLatentPanel *self);
TsLinePlot *ts_latent_panel_get_bce_plot(TsLatentPanel *self);
gboolean ts_latent_panel_has_grid(TsLatentPanel *self);

/* Principal-component projection of n points of dim coordinates onto the
 * first two components (out: n x 2). Exposed for tests. */
void ts_latent_pca2(const double *x, size_t n, size_t dim, size_t stride, double *out);

/* Signal "message" (const char *text). */

G_END_DECLS

#endif
