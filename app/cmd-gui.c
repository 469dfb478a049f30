/* toposcope gui — parses the workbench's options and hands over to ui/. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "ts-config.h"
#include "ui/gui.h"

static void help(void) {
  printf("Usage: toposcope gui [OPTIONS]\n"
         "Start the Toposcope workbench (also what 'toposcope' alone does).\n\n"
         "Options:\n"
         "  --panel NAME          panel shown first: generate, homology (default: generate)\n"
         "  --open IMAGE          open IMAGE in the Homology panel\n"
         "  --screenshot FILE     render the window to FILE (PNG) once it is ready, then exit\n");
  ts_cli_help_common(stdout, 0);
}

int ts_cmd_gui(int argc, char **argv) {
  static const struct option opts[] = {{"panel", required_argument, 0, 'p'},
                                       {"open", required_argument, 0, 'o'},
                                       {"screenshot", required_argument, 0, 'S'},
                                       {"store", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  TsGuiOptions o = {0};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'p': o.panel = optarg; break;
    case 'o': o.open = optarg; break;
    case 'S': o.screenshot = optarg; break;
    case 's': o.store = optarg; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("gui", optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error("gui", "unexpected argument '%s'", argv[optind]);
#if TS_HAVE_GUI
  return ts_gui_run(&o);
#else
  (void)o;
  return ts_cli_failf("gui", "this toposcope was built without the GUI (meson -Dgui=disabled, or GTK 4 and "
                             "libadwaita were missing); every job is also a command: see 'toposcope --help'");
#endif
}
