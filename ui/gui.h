/* gui.h — the one entry point from app/ into the GTK workbench. */
#ifndef TS_UI_GUI_H
#define TS_UI_GUI_H

typedef struct TsGuiOptions {
  const char *screenshot; /* render the window to this PNG once ready, then exit */
  const char *panel;      /* "generate" | "homology" | … : the panel shown first */
  const char *open;       /* an image to open in the Homology panel */
  const char *store;      /* run store path (NULL: the XDG default) */
} TsGuiOptions;

/* Runs the application; returns the process exit code. */
int ts_gui_run(const TsGuiOptions *opts);

#endif
