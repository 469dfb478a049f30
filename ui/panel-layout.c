/* panel-layout.c — the parts the run panels are built from (see panel-layout.h). */
#include "panel-layout.h"

static void set_margins(GtkWidget *w, int m) {
  gtk_widget_set_margin_start(w, m);
  gtk_widget_set_margin_end(w, m);
  gtk_widget_set_margin_top(w, m);
  gtk_widget_set_margin_bottom(w, m);
}

GtkWidget *ts_panel_add_sidebar(GtkBox *panel) {
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request(scroll, 340, -1);
  gtk_widget_add_css_class(scroll, "panel-sidebar");
  GtkWidget *side = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
  set_margins(side, 18);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), side);
  gtk_box_append(panel, scroll);
  return side;
}

GtkWidget *ts_panel_group(GtkWidget *box, const char *title, const char *description) {
  GtkWidget *g = adw_preferences_group_new();
  adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), title);
  if (description) adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(g), description);
  gtk_box_append(GTK_BOX(box), g);
  return g;
}

GtkWidget *ts_panel_combo(GtkWidget *group, const char *title, const char *const *items) {
  GtkWidget *row = adw_combo_row_new();
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
  adw_preferences_row_set_use_underline(ADW_PREFERENCES_ROW(row), TRUE);
  if (items) {
    GtkStringList *l = gtk_string_list_new(items);
    adw_combo_row_set_model(ADW_COMBO_ROW(row), G_LIST_MODEL(l));
    g_object_unref(l);
  }
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), row);
  return row;
}

GtkWidget *ts_panel_card(GtkWidget *w) {
  gtk_widget_add_css_class(w, "card");
  gtk_widget_add_css_class(w, "plot-card");
  gtk_widget_set_hexpand(w, TRUE);
  gtk_widget_set_vexpand(w, TRUE);
  return w;
}

GtkWidget *ts_panel_grid(gboolean homogeneous_rows) {
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 12);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
  gtk_grid_set_row_homogeneous(GTK_GRID(grid), homogeneous_rows);
  gtk_grid_set_column_homogeneous(GTK_GRID(grid), TRUE);
  set_margins(grid, 12);
  return grid;
}

void ts_panel_set_epochs(GtkWidget *scale, size_t n, const int64_t *labels, size_t max_marks, size_t max_labels,
                         int value) {
  gtk_scale_clear_marks(GTK_SCALE(scale));
  if (n) {
    gtk_range_set_range(GTK_RANGE(scale), 0, MAX(1, (double)n - 1));
    for (size_t e = 0; e < n && n <= max_marks; e++) {
      char m[24];
      snprintf(m, sizeof m, "%lld", labels ? (long long)labels[e] : (long long)e + 1);
      gtk_scale_add_mark(GTK_SCALE(scale), (double)e, GTK_POS_BOTTOM, n <= max_labels ? m : NULL);
    }
    gtk_range_set_value(GTK_RANGE(scale), CLAMP(value, 0, (int)n - 1));
  }
  gtk_widget_set_sensitive(scale, n > 1);
}

GtkWidget *ts_panel_add_pages(GtkBox *panel, GtkWidget *grid, const char *icon, const char *title,
                              GtkWidget **status) {
  GtkWidget *stack = gtk_stack_new();
  gtk_widget_set_hexpand(stack, TRUE);
  *status = adw_status_page_new();
  adw_status_page_set_icon_name(ADW_STATUS_PAGE(*status), icon);
  adw_status_page_set_title(ADW_STATUS_PAGE(*status), title);
  gtk_stack_add_named(GTK_STACK(stack), *status, "empty");
  gtk_stack_add_named(GTK_STACK(stack), grid, "plots");
  gtk_stack_set_visible_child_name(GTK_STACK(stack), "empty");
  gtk_box_append(panel, stack);
  return stack;
}
