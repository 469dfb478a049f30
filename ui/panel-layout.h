/* panel-layout.h — the parts the run panels (Layers, Latent, Playground)
 * are built from: a scrolled sidebar of preference groups at the left and
 * plot cards in a grid at the right (behind a status page while there is
 * nothing to show). One place for their sizes and style classes, so the
 * panels keep looking alike when one of them changes. */
#ifndef TS_UI_PANEL_LAYOUT_H
#define TS_UI_PANEL_LAYOUT_H

#include <adwaita.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Appends a scrolled sidebar (340 px wide, style class "panel-sidebar") to
 * panel and returns the vertical box its groups go in. */
GtkWidget *ts_panel_add_sidebar(GtkBox *panel);
/* A preference group appended to box (description may be NULL). */
GtkWidget *ts_panel_group(GtkWidget *box, const char *title, const char *description);
/* A combo row with a mnemonic title added to group; items (NULL-terminated)
 * become its model, NULL: the caller sets one. */
GtkWidget *ts_panel_combo(GtkWidget *group, const char *title, const char *const *items);
/* Styles w as a plot card that takes the space it is given; returns w. */
GtkWidget *ts_panel_card(GtkWidget *w);
/* The grid the cards go in: 12 px apart and from the edges, columns of one
 * width (and rows of one height with homogeneous_rows). */
GtkWidget *ts_panel_grid(gboolean homogeneous_rows);
/* Appends to panel, beside its sidebar, a stack of two pages: "empty", a
 * status page with icon and title (returned in *status), and "plots", the
 * grid; "empty" shows first. Returns the stack. */
/* Sets an epoch scrubber to n recorded epochs (positions 0 .. n-1) at
 * value (clamped): a mark at each position while n <= max_marks, labelled
 * labels[i] (NULL: 1 .. n) while n <= max_labels; insensitive below two
 * epochs. With n 0 only the marks go. Moving the scale emits
 * "value-changed": callers block their handler around it. */
void ts_panel_set_epochs(GtkWidget *scale, size_t n, const int64_t *labels, size_t max_marks, size_t max_labels,
                         int value);
GtkWidget *ts_panel_add_pages(GtkBox *panel, GtkWidget *grid, const char *icon, const char *title,
                              GtkWidget **status);

G_END_DECLS

#endif
