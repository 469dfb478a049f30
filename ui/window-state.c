/* window-state.c — the window state key file. */
#include "window-state.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

char *ts_window_state_path(void) {
  return g_build_filename(g_get_user_config_dir(), "toposcope", "window.ini", NULL);
}

void ts_window_state_load(TsWindowState *st) {
  memset(st, 0, sizeof *st);
  char *path = ts_window_state_path();
  GKeyFile *kf = g_key_file_new();
  if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
    int w = g_key_file_get_integer(kf, "window", "width", NULL);
    int h = g_key_file_get_integer(kf, "window", "height", NULL);
    /* ignore absurd sizes (a corrupt file must not make the window unusable) */
    if (w >= 400 && w <= 16384 && h >= 300 && h <= 16384) st->width = w, st->height = h;
    st->maximized = g_key_file_get_boolean(kf, "window", "maximized", NULL);
    char *panel = g_key_file_get_string(kf, "window", "panel", NULL);
    if (panel) g_strlcpy(st->panel, panel, sizeof st->panel);
    g_free(panel);
  }
  g_key_file_unref(kf);
  g_free(path);
}

gboolean ts_window_state_save(const TsWindowState *st, GError **error) {
  char *path = ts_window_state_path();
  char *dir = g_path_get_dirname(path);
  gboolean ok = g_mkdir_with_parents(dir, 0700) == 0;
  if (!ok) g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create '%s'", dir);
  if (ok) {
    GKeyFile *kf = g_key_file_new();
    g_key_file_set_integer(kf, "window", "width", st->width);
    g_key_file_set_integer(kf, "window", "height", st->height);
    g_key_file_set_boolean(kf, "window", "maximized", st->maximized);
    g_key_file_set_string(kf, "window", "panel", st->panel);
    ok = g_key_file_save_to_file(kf, path, error);
    g_key_file_unref(kf);
  }
  g_free(dir);
  g_free(path);
  return ok;
}
