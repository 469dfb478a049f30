/* toposcope gui — parses the workbench's options and hands over to ui/. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "ts-config.h"
#include "ui/gui.h"
#if TS_HAVE_GUI
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "image/filtration.h"
#include "image/generate.h"
#include "ph/cubical.h"
#include "plot/barcode-view.h"
#include "plot/diagram-view.h"
#include "plot/plot-export.h"
#endif

static void help(void) {
  printf("Usage: toposcope gui [OPTIONS]\n"
         "Start the Toposcope workbench (also what 'toposcope' alone does).\n\n"
         "Options:\n"
         "  --panel NAME          panel shown first: generate, homology, train, runs,\n"
         "                        playground, layers, latent (default: generate)\n"
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

/* Demo step: the workbench's plots drawn headless (Cairo only, no display):
 * the diagram and barcode of the first generated picture, as files. */
int ts_demo_plots(TsDemo *demo) {
#if TS_HAVE_GUI
  TsImage img = {0};
  TsError err;
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/train/t00000000.jpg", demo->images_dir);
  struct stat sb;
  if (!demo->images_dir[0] || stat(path, &sb) != 0) { /* no earlier step: make one */
    TsGenerateParams p;
    TsGenerator *g = NULL;
    ts_generate_params_default(&p);
    p.size = 128;
    if (ts_generator_new(&p, &g, &err) || ts_generator_make(g, 0, 0, &img, NULL, &err)) {
      ts_generator_free(g);
      return ts_cli_fail("demo", &err) != 0;
    }
    ts_generator_free(g);
    snprintf(path, sizeof path, "generated image 0");
  } else if (ts_image_load(path, &img, &err)) {
    return ts_cli_fail("demo", &err) != 0;
  }
  TsFiltrationOptions fo;
  ts_filtration_options_default(&fo);
  double *field = NULL;
  int fw, fh, constant;
  TsDiagram d;
  ts_diagram_init(&d);
  TsCubicalOptions co;
  ts_cubical_options_default(&co);
  size_t shape[2];
  int rc = 0;
  if (ts_filtration_apply(&img, &fo, &field, &fw, &fh, &constant, &err)) rc = 1;
  shape[0] = (size_t)fh, shape[1] = (size_t)fw;
  if (!rc && !constant && ts_cubical_ph(field, 2, shape, &co, &d, &err)) rc = 1;
  if (rc) {
    ts_cli_fail("demo", &err);
  } else {
    size_t n;
    size_t *order = ts_barcode_order(&d, TS_BARCODE_SORT_LIFESPAN, 0, &n);
    TsDiagramViewData dv = {.diagram = &d, .t = 0.0, .title = "Persistence diagram (signed distance)"};
    TsBarcodeViewData bv = {.diagram = &d, .order = order, .n_order = n, .t = 0.0, .title = "Barcode by lifespan"};
    const char *files[3] = {"diagram.png", "diagram.svg", "barcode.pdf"};
    fprintf(demo->out, "  plots of %s (%zu pairs), t = 0 marked:\n", path, d.n);
    for (int i = 0; i < 3 && !rc; i++) {
      char out[PATH_MAX + 32];
      snprintf(out, sizeof out, "%s/%s", demo->workdir, files[i]);
      GError *e = NULL;
      double t0 = ts_clock_monotonic();
      gboolean ok = i < 2 ? ts_plot_export_file((TsPlotDrawFn)ts_diagram_view_draw, &dv, 640, 560, out, &e)
                          : ts_plot_export_file((TsPlotDrawFn)ts_barcode_view_draw, &bv, 640, 560, out, &e);
      if (!ok) {
        rc = ts_cli_failf("demo", "%s", e ? e->message : "cannot draw");
        g_clear_error(&e);
      } else {
        fprintf(demo->out, "  wrote %s in %.1f ms\n", out, 1e3 * (ts_clock_monotonic() - t0));
      }
    }
    g_free(order);
  }
  free(field);
  ts_diagram_clear(&d);
  ts_image_clear(&img);
  return rc != 0;
#else
  fprintf(demo->out, "  skipped: this toposcope was built without the GUI (the plots live in ui/plot)\n");
  return 0;
#endif
}
