#include "cli.h"

int ts_cli_open_store(const char *cmd, const char *path, TsStoreMode mode, TsStore **out) {
  TsError err = {0};
  char def[4096];
  if (!path) {
    if (ts_store_default_path(def, sizeof def, &err)) return ts_cli_fail(cmd, &err);
    path = def;
  }
  if (ts_store_open(path, mode, out, &err)) return ts_cli_fail(cmd, &err);
  return 0;
}

