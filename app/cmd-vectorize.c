/* toposcope vectorize — diagrams (or images, through Kaji's label filtration)
 * as vectors: PH labels, curves, images, landscapes, summaries. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "ph/label-input.h"
#include "ph/diagram-io.h"
#include "ph/vectorize.h"

static void help(void) {
  printf("Usage: toposcope vectorize INPUT... [OPTIONS]\n"
         "Turns persistence diagrams into vectors. INPUT is a diagram file (CSV, GUDHI or\n"
         "ripser text, .npy n x 3 or CubicalRipser n x 9, DIPHA) or an image (JPEG, PNG,\n"
         "PGM/PPM), whose diagram is computed first as 'toposcope label' does (Kaji's\n"
         "filtration, cubical PH in the V-construction, H0 and H1).\n"
         "Prints one line per input: the input's name, then the values (CSV).\n\n"
         "Kaji's PH labels (H0 then H1, --dims values in all):\n"
         "  --type persistence-image   Kaji's persistence image (default)\n"
         "  --type life-curve          Kaji's 'betticurve': summed clipped lifetimes alive at t\n"
         "  --type betti-curve         Betti numbers over the birth range\n"
         "  --type landscape           first 2 landscapes, sqrt\n"
         "  --type histogram           lifetime and birth histograms, log(1 + x)\n"
         "General vectors of one dimension (--dim, default all pairs):\n"
         "  --type betti-curve|landscape|silhouette|image  with --dim K, --range, --resolution\n"
         "  --type stats               count, essential, total persistence, lifespan sum,\n"
         "                             average life, midlife, max life, persistent entropy\n\n"
         "Options:\n"
         "  --dims N              label length (default 200)\n"
         "  --max-life A [B]      max life for H0 and H1 (default 50 50; Kaji's README: 80 60)\n"
         "  --filtration NAME     signed-distance (default; births from -max_life) or any\n"
         "                        other filtration name (births from 0)\n"
         "  --sigma S             Gaussian: variance for Kaji's image (default 1), standard\n"
         "                        deviation for --type image (default 1)\n"
         "  --weight-power N      persistence image weight (d - b)^N (default 1)\n"
         "  --dim K               general vectors of dimension K only\n"
         "  --range LO HI         sample range (default: the H0 birth range)\n"
         "  --pers-range LO HI    persistence range of --type image (default 0 max_life)\n"
         "  --resolution N [M]    samples (default 100); image: N x M pixels (default 20 20)\n"
         "  --sample              --type image: sample the density at grid points (GUDHI)\n"
         "                        instead of integrating over pixels\n"
         "  --levels K            landscapes (default 2)\n"
         "  --power P             silhouette weight power / total persistence power (default 1)\n"
         "  --alpha A             lifespan-sum exponent (default 1)\n"
         "  --min-life L          entropy: lifetimes <= L are ignored (default 0)\n"
         "  --gradient            images: Kaji's -g (edges as the mask)\n"
         "  --resize N            images: resize to N x N first (default: keep the size)\n"
         "  -o, --output FILE     write the vectors as a float64 .npy (inputs x values)\n"
         "  -h, --help            show this help\n");
}

enum { T_STATS = 100, T_SILHOUETTE, T_IMAGE };

/* --max-life A [B]: B is optional and read from the next argument when it is a number. */
static int two_numbers(const char *opt, int argc, char **argv, double lo, double hi, double out[2], int same) {
  int rc = ts_cli_double("vectorize", opt, optarg, lo, hi, &out[0]);
  if (rc) return rc;
  out[1] = same ? out[0] : out[1];
  if (optind < argc && argv[optind][0] != '\0' && !(argv[optind][0] == '-' && argv[optind][1] == '-')) {
    char *end;
    double v = strtod(argv[optind], &end);
    if (*end == '\0' && end != argv[optind]) {
      if ((rc = ts_cli_double("vectorize", opt, argv[optind], lo, hi, &v))) return rc;
      out[1] = v;
      optind++;
    }
  }
  return 0;
}

int ts_cmd_vectorize(int argc, char **argv) {
  static const struct option opts[] = {{"type", required_argument, 0, 't'},
                                       {"dims", required_argument, 0, 'n'},
                                       {"max-life", required_argument, 0, 'L'},
                                       {"filtration", required_argument, 0, 'f'},
                                       {"sigma", required_argument, 0, 's'},
                                       {"weight-power", required_argument, 0, 'w'},
                                       {"dim", required_argument, 0, 'd'},
                                       {"range", required_argument, 0, 'r'},
                                       {"pers-range", required_argument, 0, 'P'},
                                       {"resolution", required_argument, 0, 'R'},
                                       {"sample", no_argument, 0, 'S'},
                                       {"levels", required_argument, 0, 'k'},
                                       {"power", required_argument, 0, 'p'},
                                       {"alpha", required_argument, 0, 'a'},
                                       {"min-life", required_argument, 0, 'm'},
                                       {"gradient", no_argument, 0, 'g'},
                                       {"resize", required_argument, 0, 'z'},
                                       {"output", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c, rc, type = TS_LABEL_PERSISTENCE_IMAGE, dim = -1, have_dim = 0, levels = 2, sample = 0;
  double max_life[2] = {50, 50}, range[2] = {NAN, NAN}, prange[2] = {NAN, NAN}, res[2] = {NAN, NAN};
  double sigma = NAN, weight_power = 1, power = 1, alpha = 1, min_life = 0;
  long dims = 200;
  const char *output = NULL;
  TsLabelInputOptions in;
  ts_label_input_options_default(&in);
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case 't':
      if (strcmp(optarg, "stats") == 0) type = T_STATS;
      else if (strcmp(optarg, "silhouette") == 0) type = T_SILHOUETTE;
      else if (strcmp(optarg, "image") == 0) type = T_IMAGE;
      else if ((type = ts_label_type_parse(optarg)) < 0)
        return ts_cli_usage_error("vectorize", "unknown --type '%s'", optarg);
      break;
    case 'n':
      if ((rc = ts_cli_int("vectorize", "--dims", optarg, 4, 1 << 20, &dims))) return rc;
      break;
    case 'L':
      if ((rc = two_numbers("--max-life", argc, argv, 1e-9, 1e12, max_life, 1))) return rc;
      break;
    case 'f':
      if ((rc = ts_label_input_set_filtration(&in, optarg))) return ts_cli_usage_error("vectorize", "unknown --filtration '%s'", optarg);
      break;
    case 's':
      if ((rc = ts_cli_double("vectorize", "--sigma", optarg, 1e-12, 1e12, &sigma))) return rc;
      break;
    case 'w':
      if ((rc = ts_cli_double("vectorize", "--weight-power", optarg, 0, 100, &weight_power))) return rc;
      break;
    case 'd': {
      long v;
      if ((rc = ts_cli_int("vectorize", "--dim", optarg, 0, 64, &v))) return rc;
      dim = (int)v;
      have_dim = 1;
      break;
    }
    case 'r':
      if ((rc = two_numbers("--range", argc, argv, -1e300, 1e300, range, 0))) return rc;
      if (isnan(range[1])) return ts_cli_usage_error("vectorize", "--range needs two numbers LO HI");
      break;
    case 'P':
      if ((rc = two_numbers("--pers-range", argc, argv, -1e300, 1e300, prange, 0))) return rc;
      if (isnan(prange[1])) return ts_cli_usage_error("vectorize", "--pers-range needs two numbers LO HI");
      break;
    case 'R':
      if ((rc = two_numbers("--resolution", argc, argv, 1, 1 << 20, res, 1))) return rc;
      if (res[0] != floor(res[0]) || res[1] != floor(res[1]))
        return ts_cli_usage_error("vectorize", "--resolution takes whole numbers");
      break;
    case 'S': sample = 1; break;
    case 'k': {
      long v;
      if ((rc = ts_cli_int("vectorize", "--levels", optarg, 1, 1000, &v))) return rc;
      levels = (int)v;
      break;
    }
    case 'p':
      if ((rc = ts_cli_double("vectorize", "--power", optarg, 0, 100, &power))) return rc;
      break;
    case 'a':
      if ((rc = ts_cli_double("vectorize", "--alpha", optarg, 0, 100, &alpha))) return rc;
      break;
    case 'm':
      if ((rc = ts_cli_double("vectorize", "--min-life", optarg, 0, 1e300, &min_life))) return rc;
      break;
    case 'g': in.filtration.edges = 1; break;
    case 'z': {
      long v;
      if ((rc = ts_cli_int("vectorize", "--resize", optarg, 0, 1 << 15, &v))) return rc;
      in.filtration.resize = (int)v;
      break;
    }
    case 'o': output = optarg; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("vectorize", optopt, argv[optind - 1]);
    }
  }
  if (optind >= argc) return ts_cli_usage_error("vectorize", "no INPUT given");
  if (type == T_STATS && output) return ts_cli_usage_error("vectorize", "--type stats prints a table; drop -o");

  TsKajiParams kp;
  ts_kaji_params_default(&kp, ts_label_input_signed(&in));
  kp.dims = (int)dims;
  ts_kaji_params_set_max_life(&kp, max_life[0], max_life[1], ts_label_input_signed(&in));
  if (!isnan(sigma)) kp.sigma = sigma;
  kp.weight_power = weight_power;
  int general = have_dim || type == T_SILHOUETTE || type == T_IMAGE;
  if (isnan(range[0])) range[0] = kp.min_birth[0], range[1] = kp.max_birth[0];
  if (isnan(prange[0])) prange[0] = 0, prange[1] = kp.max_life[have_dim && dim == 1 ? 1 : 0];
  if (isnan(res[0])) res[0] = res[1] = type == T_IMAGE ? 20 : 100;
  int n = (int)res[0];
  size_t len = !general ? (size_t)kp.dims
               : type == T_IMAGE ? (size_t)res[0] * (size_t)res[1]
               : type == TS_LABEL_LANDSCAPE ? (size_t)levels * (size_t)n
                                            : (size_t)n;
  if (general && type != TS_LABEL_BETTI_CURVE && type != TS_LABEL_LANDSCAPE && type != T_SILHOUETTE &&
      type != T_IMAGE && type != T_STATS && type != TS_LABEL_LIFE_CURVE)
    return ts_cli_usage_error("vectorize", "--type %s is one of Kaji's labels: drop --dim", ts_label_type_name(type));

  int ninputs = argc - optind;
  double *vals = NULL;
  if (type != T_STATS) {
    vals = calloc((size_t)ninputs * len, sizeof *vals);
    if (!vals) return ts_cli_failf("vectorize", "out of memory for %d x %zu values", ninputs, len);
  } else {
    printf("input,dim,count,essential,total_persistence,lifespan_sum,average_life,midlife,max_life,entropy\n");
  }
  TsError err = {0};
  int status = TS_EXIT_OK;
  for (int k = 0; k < ninputs && status == TS_EXIT_OK; k++) {
    const char *path = argv[optind + k];
    TsDiagram d;
    if (ts_label_input_diagram(path, &in, &d, &err)) {
      status = ts_cli_fail("vectorize", &err);
      break;
    }
    double *o = vals ? vals + (size_t)k * len : NULL;
    TsStatus st = TS_OK;
    if (type == T_STATS) {
      int d0 = have_dim ? dim : 0, d1 = have_dim ? dim : d.maxdim;
      for (int q = d0; q <= d1; q++) {
        TsDiagramStats s;
        ts_diagram_stats(&d, q, power, alpha, min_life, &s);
        printf("%s,%d,%zu,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", path, q, s.count, s.essential,
               s.total_persistence, s.lifespan_sum, s.average_life, s.midlife, s.max_life, s.entropy);
      }
    } else if (!general) {
      st = ts_kaji_label(&d, (TsLabelType)type, &kp, o, &err);
    } else if (type == TS_LABEL_BETTI_CURVE) {
      st = ts_vec_betti_curve(&d, dim, range[0], range[1], n, o, &err);
    } else if (type == TS_LABEL_LIFE_CURVE) {
      st = ts_vec_life_curve(&d, dim, range[0], range[1], n, kp.max_life[dim == 1 ? 1 : 0], o, &err);
    } else if (type == TS_LABEL_LANDSCAPE) {
      st = ts_vec_landscape(&d, dim, levels, range[0], range[1], n, o, &err);
    } else if (type == T_SILHOUETTE) {
      st = ts_vec_silhouette(&d, dim, power, range[0], range[1], n, o, &err);
    } else {
      TsPiParams pp;
      ts_pi_params_default(&pp);
      pp.birth_min = range[0], pp.birth_max = range[1], pp.pers_min = prange[0], pp.pers_max = prange[1];
      pp.nbirth = (int)res[0], pp.npers = (int)res[1];
      pp.sigma = isnan(sigma) ? 1 : sigma;
      pp.weight_power = weight_power;
      pp.sample = sample;
      st = ts_vec_persistence_image(&d, dim, &pp, o, &err);
    }
    ts_diagram_clear(&d);
    if (st) {
      ts_error_prefix(&err, "%s", path);
      status = ts_cli_fail("vectorize", &err);
    }
  }
  if (status == TS_EXIT_OK && vals) {
    if (output) {
      if (ts_npy_write_f64(output, vals, (size_t)ninputs, len, &err)) status = ts_cli_fail("vectorize", &err);
    } else {
      for (int k = 0; k < ninputs; k++) {
        fputs(argv[optind + k], stdout);
        for (size_t i = 0; i < len; i++) printf(",%.17g", vals[(size_t)k * len + i]);
        putchar('\n');
      }
    }
  }
  free(vals);
  return status;
}
