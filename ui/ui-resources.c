/* ui-resources.c — one registration of the compiled GResource. */
#include "ui-resources.h"

#include <gio/gio.h>

#include "ts-resources.h"

void ts_ui_resources_register(void) {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    ts_register_resource();
    g_once_init_leave(&done, 1);
  }
}
