/* window-state.h — the window's size, maximised state and panel, kept in a
 * small key file ($XDG_CONFIG_HOME/toposcope/window.ini) rather than
 * GSettings, so no schema has to be installed for the app or its tests. */
#ifndef TS_UI_WINDOW_STATE_H
#define TS_UI_WINDOW_STATE_H

#include <glib.h>

typedef struct TsWindowState {
  int width, height; /* 0: not stored */
  gboolean maximized;
  char panel[32];
} TsWindowState;

/* Reads the file; a missing or malformed file leaves *st zeroed. */
void ts_window_state_load(TsWindowState *st);
gboolean ts_window_state_save(const TsWindowState *st, GError **error);
/* The file's path (g_free it). */
char *ts_window_state_path(void);

#endif
