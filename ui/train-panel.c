/* train-panel.c — Train panel: the form, the command line, the followed runs. */
#include "train-panel.h"

#include <adwaita.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/json.h"
#include "run/experiment-options.h"
#include "run/train-options.h"
#include "run-follow.h"

/* --- workflows and presets ------------------------------------------------------ */

typedef struct Workflow {
  const char *id, *title;
  const char *task;     /* the --task it passes (NULL: none) */
  const char *required; /* the option it cannot run without */
  const char *show;     /* options only this workflow shows ("|a|b|") */
  int resume, combined;
  int experiment; /* toposcope experiment: its own options and the train options it passes on */
} Workflow;

/* Options shown by some workflows only; every other option shows in all
 * but resume, which shows what --resume accepts. */
#define WORKFLOW_ONLY "|task|label-norm|ph-weight|init|freeze|combined|pretrain-data|pretrain-val|pretrain-task|pretrain-epochs|resume|per-class|subset-seed|topo-weights|topo-deg|topo-on|latent|lockstep|latent-points|"

static const Workflow workflows[] = {
    {"classify", "Classify images", "classify", "data", "|per-class|subset-seed|", 0, 0, 0},
    {"ph", "PH pretraining", "ph", "data", "|label-norm|", 0, 0, 0},
    {"finetune", "Fine-tune a checkpoint", "classify", "init", "|init|freeze|per-class|subset-seed|", 0, 0, 0},
    {"simultaneous", "Classes and PH labels at once", "simultaneous", "data", "|label-norm|ph-weight|", 0, 0, 0},
    {"combined", "Pretrain, then fine-tune", NULL, "pretrain-data",
     "|combined|pretrain-data|pretrain-val|pretrain-task|pretrain-epochs|freeze|per-class|subset-seed|label-norm|", 0, 1, 0},
    {"vae", "TopoVAE (and a plain VAE in lockstep)", "vae", "data",
     "|topo-weights|topo-deg|topo-on|latent|lockstep|latent-points|", 0, 0, 0},
    {"resume", "Resume a checkpoint", NULL, "resume", "|resume|", 1, 0, 0},
    {"experiment", "Experiment: scratch vs pretrained", NULL, "data", "", 0, 0, 1},
};

typedef struct Preset {
  const char *title, *tooltip;
  const char *values[12][2];
} Preset;

static const Preset presets[] = {
    {"None", "Defaults of toposcope train", {{NULL, NULL}}},
    {"Quick look (LeNet-5, 2 epochs)",
     "LeNet-5 with Adam for 2 epochs on the first 2,000 FashionMNIST images (500 to validate): a run of a minute",
     {{"model", "lenet5"}, {"data", "fashion-mnist"}, {"optimizer", "adam"}, {"epochs", "2"}, {"limit", "2000"},
      {"val-limit", "500"}, {NULL, NULL}}},
    {"dnn-topology's LeNet",
     "dnn-topology's LeNet (10 and 20 conv channels, fc 50) with SGD momentum 0.9, weight decay 5e-4 and batch 128, "
     "its functional graph's Betti curves probed before training and after epochs 1, 2, 5 and 10 (on FashionMNIST)",
     {{"model", "lenet-dnn"}, {"data", "fashion-mnist"}, {"optimizer", "sgd"}, {"momentum", "0.9"},
      {"weight-decay", "0.0005"}, {"batch", "128"}, {"epochs", "10"}, {"probe", "graph"},
      {"probe-epochs", "0,1,2,5,10"}, {NULL, NULL}}},
    {"Topo-GEN's TopoVAE",
     "Topo-GEN's FashionMNIST experiment: the TopoVAE with weights 10,10,10,10,0,0,0 on its reconstructions, "
     "beside a plain VAE from the same weights on the same batches; Adam 5e-4, batch 128, 2 epochs, seed 1234",
     {{"workflow", "vae"}, {"model", "topovae"}, {"data", "fashion-mnist"}, {"topo-weights", "10,10,10,10,0,0,0"},
      {"lockstep", "1"}, {"optimizer", "adam"}, {"lr", "0.0005"}, {"batch", "128"}, {"epochs", "2"},
      {"seed", "1234"}, {NULL, NULL}}},
    {"Kaji's PH pretraining",
     "Kaji's pretraining on the PH labels of generated pictures: ResNet-50, SGD momentum 0.9, weight decay 1e-4, "
     "lr 0.1, 90 epochs with steps at 30 and 60, batch 128, MSE on z-scored labels; choose the data "
     "(labels:DIR,CACHE from toposcope label, or generate:SIZE made on the fly)",
     {{"workflow", "ph"}, {"model", "resnet50"}, {"optimizer", "sgd"}, {"lr", "0.1"}, {"momentum", "0.9"},
      {"weight-decay", "0.0001"}, {"epochs", "90"}, {"schedule", "multistep:30,60"}, {"batch", "128"}, {NULL, NULL}}},
    {"Kaji's schedule, from scratch",
     "Kaji's fine-tuning set-up without pretrained weights (the 'scratch' baseline): ResNet-50, SGD momentum 0.9, "
     "weight decay 1e-4, lr 0.01, 90 epochs with steps at 30 and 60, batch 128; choose the data (cifar:DIR)",
     {{"model", "resnet50"}, {"optimizer", "sgd"}, {"lr", "0.01"}, {"momentum", "0.9"}, {"weight-decay", "0.0001"},
      {"epochs", "90"}, {"schedule", "multistep:30,60"}, {"batch", "128"}, {NULL, NULL}}},
};

/* The form's labels; an option not listed here is titled from its name. */
static const char *const titles[][2] = {
    {"model", "Model"},           {"data", "Training set"},       {"val", "Validation set"},
    {"epochs", "Epochs"},         {"batch", "Batch size"},         {"optimizer", "Optimiser"},
    {"lr", "Learning rate"},      {"momentum", "Momentum"},        {"nesterov", "Nesterov momentum"},
    {"weight-decay", "Weight decay"}, {"schedule", "Learning-rate schedule"}, {"seed", "Seed"},
    {"deterministic", "Deterministic"}, {"augment", "Augmentation"}, {"resize", "Resize"},
    {"normalize", "Normalisation"}, {"small-stem", "Small stem (ResNet)"}, {"width", "Width (ResNet)"},
    {"hidden", "Hidden sizes (MLP)"}, {"limit", "Training images"}, {"val-limit", "Validation images"},
    {"save", "Checkpoint file"},  {"resume", "Checkpoint to resume"}, {"loader-threads", "Loader threads"},
    {"name", "Run name"},         {"label-norm", "Label normalisation"}, {"ph-weight", "PH loss weight"},
    {"init", "Start from checkpoint"}, {"freeze", "Freeze"},       {"per-class", "Images per class"},
    {"subset-seed", "Subset seed"}, {"in-memory", "In-memory limit (MB)"}, {"gen-count", "Pictures per epoch"},
    {"gen-val", "Validation pictures"}, {"gen-seed", "Generator seed"}, {"pretrain-data", "Pretraining data"},
    {"pretrain-val", "Pretraining validation"}, {"pretrain-task", "Pretraining task"},
    {"pretrain-epochs", "Pretraining epochs"}, {"seeds", "Seeds"}, {"jobs", "Side by side"},
    {"output", "Table files (prefix)"},
};

static char *option_title(const char *name) {
  for (size_t i = 0; i < G_N_ELEMENTS(titles); i++)
    if (!strcmp(titles[i][0], name)) return g_strdup(titles[i][1]);
  char *t = g_strdup(name);
  for (char *p = t; *p; p++)
    if (*p == '-') *p = ' ';
  t[0] = g_ascii_toupper(t[0]);
  return t;
}

/* --- state ------------------------------------------------------------------------ */

typedef struct Opt {
  const TsOptSpec *spec;
  gboolean exp; /* one of experiment's own options (the Experiment workflow only) */
  GtkWidget *row, *entry, *sw, *combo;
} Opt;

typedef struct Followed {
  gint64 run;           /* -1 until the store shows it */
  GSubprocess *proc;    /* started here (NULL: adopted from the store) */
  gint64 pid;
  gint64 spawned;       /* unix seconds */
  char *log_path;
  char *fail;           /* the process failed before or without the store saying why */
  gboolean experiment;  /* a toposcope experiment: no run of its own, its fine-tunings are adopted */
  int start_index;      /* order of Start in this panel; -1: adopted */
  double rate_t, rate_done0;
  double rate;          /* steps per second, measured here */
  GtkWidget *row, *title, *subtitle, *bar, *eta, *stop, *resume;
} Followed;

enum { W_LOSS, W_VAL_LOSS, W_TRAIN_ACC, W_VAL_ACC, W_LR, W_IPS, N_WATCH };
static const char *const watch_names[N_WATCH] = {"train/loss", "val/loss",      "train/accuracy",
                                                 "val/accuracy", "lr",          "images_per_s"};

struct _TsTrainPanel {
  GtkBox parent;
  GtkWidget *form_box, *workflow_row, *preset_row, *command_label, *form_error, *copy_button, *start_button;
  GtkWidget *runs_list, *status_label, *plot_grid, *placeholder;
  GtkWidget *loss_plot, *acc_plot, *lr_plot, *ips_plot;
  GArray *opts; /* Opt */
  GtkWidget *groups[TS_OPT_N_GROUPS];
  guint workflow;
  gboolean applying; /* setting many controls at once: one refresh at the end */
  char *command, *program;
  GPtrArray *argv; /* what Start runs (argv[0] is the program as shown: "toposcope") */
  TsStoreSubscription sub; /* the reader and our two handlers */
  GPtrArray *followed; /* Followed* */
  Followed *selected;
  guint watches[N_WATCH];
  guint loss_points;
  gint64 last_step;
  double last_ips;
  int n_started, n_new;
  GCancellable *cancel;
  char *status_text, *store_seen;
  char host[64];
};

G_DEFINE_FINAL_TYPE(TsTrainPanel, ts_train_panel, GTK_TYPE_BOX)

enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void message(TsTrainPanel *self, const char *text) { g_signal_emit(self, signals[SIG_MESSAGE], 0, text); }

static void refresh_command(TsTrainPanel *self);
static void refresh_rows(TsTrainPanel *self);
static void select_followed(TsTrainPanel *self, Followed *f);

/* --- the form --------------------------------------------------------------------- */

static const char *opt_value(const Opt *o) {
  if (o->sw) return gtk_switch_get_active(GTK_SWITCH(o->sw)) ? "on" : "";
  if (o->combo) {
    GtkStringList *l = GTK_STRING_LIST(adw_combo_row_get_model(ADW_COMBO_ROW(o->combo)));
    return gtk_string_list_get_string(l, adw_combo_row_get_selected(ADW_COMBO_ROW(o->combo)));
  }
  return gtk_editable_get_text(GTK_EDITABLE(o->entry));
}

static gboolean opt_visible(const TsTrainPanel *self, const Opt *o);

/* The option of that name; where train and experiment both have one
 * (--data, --init, ...), the one the current workflow shows. */
static Opt *find_opt(TsTrainPanel *self, const char *name) {
  Opt *any = NULL;
  for (guint i = 0; i < self->opts->len; i++) {
    Opt *o = &g_array_index(self->opts, Opt, i);
    if (strcmp(o->spec->name, name)) continue;
    if (opt_visible(self, o)) return o;
    if (!any) any = o;
  }
  return any;
}

static gboolean forwarded_by_experiment(const char *name) {
  for (const char *const *f = ts_experiment_forwarded(); *f; f++)
    if (!strcmp(*f, name)) return TRUE;
  return FALSE;
}

static gboolean opt_visible(const TsTrainPanel *self, const Opt *o) {
  const TsOptSpec *s = o->spec;
  const Workflow *w = &workflows[self->workflow];
  if (w->experiment) return o->exp ? strcmp(s->name, "quiet") != 0 : forwarded_by_experiment(s->name);
  if (o->exp) return FALSE;
  if (!strcmp(s->name, "quiet") || !strcmp(s->name, "task") || !strcmp(s->name, "combined")) return FALSE; /* output goes to a log; the task is the workflow's */
  char key[64];
  snprintf(key, sizeof key, "|%s|", s->name);
  if (strstr(w->show, key)) return TRUE;
  if (w->resume) return s->resume && strcmp(s->name, "resume") != 0 ? TRUE : FALSE;
  return strstr(WORKFLOW_ONLY, key) == NULL;
}

static char *option_title(const char *name);
/* The form's label of an option (a static copy: the message is built at once). */
static const char *option_title_of(const Opt *o) {
  static char buf[96];
  char *t = option_title(o->spec->name);
  g_strlcpy(buf, t, sizeof buf);
  g_free(t);
  return buf;
}

/* Checks one value; NULL if fine, else a message (static or owned by nobody). */
static char *opt_check(const Opt *o, const char *v) {
  const TsOptSpec *s = o->spec;
  if (!v || !*v || s->kind == TS_OPT_FLAG || s->kind == TS_OPT_CHOICE) return NULL;
  if (s->kind == TS_OPT_INT || s->kind == TS_OPT_FLOAT) {
    char *end;
    double x = s->kind == TS_OPT_INT ? (double)g_ascii_strtoll(v, &end, 10) : g_ascii_strtod(v, &end);
    if (end == v || *end || !isfinite(x))
      return g_strdup_printf("--%s expects %s, not '%s'", s->name, s->kind == TS_OPT_INT ? "a whole number" : "a number", v);
    if (x < s->min || x > s->max)
      return g_strdup_printf("--%s must be between %g and %g", s->name, s->min, s->max);
  }
  return NULL;
}

static gboolean needs_quotes(const char *s) {
  if (!*s) return TRUE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("_./:,=+-@%^", *p)) return TRUE;
  return FALSE;
}

static char *default_store(void) {
  char buf[4096];
  TsError err;
  return ts_store_default_path(buf, sizeof buf, &err) == TS_OK ? g_strdup(buf) : NULL;
}

/* Builds argv from the form; returns an error message (owned) or NULL. */
static char *build_argv(TsTrainPanel *self, GPtrArray *a) {
  char *error = NULL;
  g_ptr_array_add(a, g_strdup("toposcope"));
  const Workflow *w = &workflows[self->workflow];
  g_ptr_array_add(a, g_strdup(w->experiment ? "experiment" : "train"));
  if (w->task && strcmp(w->task, "classify")) {
    g_ptr_array_add(a, g_strdup("--task"));
    g_ptr_array_add(a, g_strdup(w->task));
  }
  if (w->combined) g_ptr_array_add(a, g_strdup("--combined"));
  for (guint i = 0; i < self->opts->len; i++) {
    Opt *o = &g_array_index(self->opts, Opt, i);
    if (!opt_visible(self, o)) continue;
    const char *v = opt_value(o);
    char *bad = opt_check(o, v);
    if (bad && !error) error = bad;
    else g_free(bad);
    gtk_widget_remove_css_class(o->row, "error");
    if (bad) gtk_widget_add_css_class(o->row, "error");
    if (!strcmp(o->spec->name, w->required) && !*v && !error)
      error = g_strdup_printf("%s: choose one (--%s)", option_title_of(o), o->spec->name);
    if (o->spec->kind == TS_OPT_FLAG) {
      if (*v && !(w->combined && !strcmp(o->spec->name, "combined")))
        g_ptr_array_add(a, g_strdup_printf("--%s", o->spec->name));
      continue;
    }
    if (!*v || !strcmp(v, o->spec->def)) continue; /* the default is not spelled out */
    g_ptr_array_add(a, g_strdup_printf("--%s", o->spec->name));
    g_ptr_array_add(a, g_strdup(v));
  }
  char *def = default_store();
  const char *store = self->sub.reader ? ts_store_reader_get_path(self->sub.reader) : NULL;
  if (store && g_strcmp0(store, def)) {
    g_ptr_array_add(a, g_strdup("--store"));
    g_ptr_array_add(a, g_strdup(store));
  }
  g_free(def);
  return error;
}

static void refresh_command(TsTrainPanel *self) {
  if (self->applying) return;
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  char *error = build_argv(self, a);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < a->len; i++) {
    const char *arg = g_ptr_array_index(a, i);
    if (i) g_string_append_c(s, ' ');
    if (needs_quotes(arg)) {
      char *q = g_shell_quote(arg);
      g_string_append(s, q);
      g_free(q);
    } else {
      g_string_append(s, arg);
    }
  }
  g_free(self->command);
  self->command = g_string_free(s, FALSE);
  gtk_label_set_text(GTK_LABEL(self->command_label), self->command);
  if (self->argv) g_ptr_array_unref(self->argv);
  self->argv = a;
  gtk_widget_set_visible(self->form_error, error != NULL);
  gtk_label_set_text(GTK_LABEL(self->form_error), error ? error : "");
  gtk_widget_set_sensitive(self->start_button, error == NULL);
  g_free(error);
}

static void on_form_changed(TsTrainPanel *self) { refresh_command(self); }

static void on_file_response(GtkNativeDialog *d, int response, gpointer user_data) {
  GtkWidget *entry = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    const char *prefix = g_object_get_data(G_OBJECT(d), "prefix");
    if (path) {
      char *v = g_strconcat(prefix ? prefix : "", path, NULL);
      gtk_editable_set_text(GTK_EDITABLE(entry), v);
      g_free(v);
    }
    g_free(path);
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
  g_object_unref(entry);
}

static void on_choose_file(GtkButton *b, gpointer user_data) {
  (void)user_data;
  GtkWidget *entry = g_object_get_data(G_OBJECT(b), "entry");
  const TsOptSpec *s = g_object_get_data(G_OBJECT(b), "spec");
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(b));
  GtkFileChooserAction action = s->kind == TS_OPT_SAVE_FILE ? GTK_FILE_CHOOSER_ACTION_SAVE
                                : s->kind == TS_OPT_DATA    ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                                            : GTK_FILE_CHOOSER_ACTION_OPEN;
  const char *title = s->kind == TS_OPT_DATA ? "Dataset Folder" : s->kind == TS_OPT_SAVE_FILE ? "Save Checkpoint As"
                                                                                               : "Open Checkpoint";
  GtkFileChooserNative *d = gtk_file_chooser_native_new(title, GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, action,
                                                        action == GTK_FILE_CHOOSER_ACTION_SAVE ? "_Save" : "_Select",
                                                        "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  if (s->kind == TS_OPT_OPEN_FILE || s->kind == TS_OPT_SAVE_FILE) {
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, "Checkpoints (safetensors)");
    gtk_file_filter_add_pattern(f, "*.safetensors");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
    g_object_unref(f);
  }
  if (s->kind == TS_OPT_DATA) {
    /* a folder is a dataset as folder:DIR (class sub-folders), cifar:DIR or
     * fashion-mnist:DIR; the chooser fills the common case */
    g_object_set_data(G_OBJECT(d), "prefix", (gpointer) "folder:");
  }
  g_signal_connect(d, "response", G_CALLBACK(on_file_response), g_object_ref(entry));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static char *tooltip_of(const TsOptSpec *s) {
  char *t = g_strdup_printf("--%s%s%s: %s", s->name, s->metavar ? " " : "", s->metavar ? s->metavar : "", s->help);
  for (char *p = t; *p; p++)
    if (*p == '\n') *p = ' ';
  return t;
}

static void build_form(TsTrainPanel *self) {
  for (int g = 0; g < TS_OPT_N_GROUPS; g++) {
    self->groups[g] = adw_preferences_group_new();
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(self->groups[g]), ts_opt_group_title((TsOptGroup)g));
    gtk_box_append(GTK_BOX(self->form_box), self->groups[g]);
  }
  size_t n_train, n_exp;
  const TsOptSpec *train = ts_train_options(&n_train), *exp = ts_experiment_options(&n_exp);
  for (size_t i = 0; i < n_exp + n_train; i++) {
    const TsOptSpec *s = i < n_exp ? &exp[i] : &train[i - n_exp];
    if (s->kind == TS_OPT_NOTE) continue;
    Opt o = {.spec = s, .exp = i < n_exp};
    char *title = option_title(s->name);
    char *tip = tooltip_of(s);
    char *sub = g_strdup_printf("--%s", s->name);
    if (s->kind == TS_OPT_CHOICE) {
      o.row = o.combo = adw_combo_row_new();
      char **items = g_strsplit(s->choices, "|", -1);
      GtkStringList *l = gtk_string_list_new((const char *const *)items);
      adw_combo_row_set_model(ADW_COMBO_ROW(o.combo), G_LIST_MODEL(l));
      for (guint k = 0; items[k]; k++)
        if (!strcmp(items[k], s->def)) adw_combo_row_set_selected(ADW_COMBO_ROW(o.combo), k);
      g_object_unref(l);
      g_strfreev(items);
      g_signal_connect_swapped(o.combo, "notify::selected", G_CALLBACK(on_form_changed), self);
    } else {
      o.row = adw_action_row_new();
      if (s->kind == TS_OPT_FLAG) {
        o.sw = gtk_switch_new();
        gtk_widget_set_valign(o.sw, GTK_ALIGN_CENTER);
        adw_action_row_add_suffix(ADW_ACTION_ROW(o.row), o.sw);
        adw_action_row_set_activatable_widget(ADW_ACTION_ROW(o.row), o.sw);
        g_signal_connect_swapped(o.sw, "notify::active", G_CALLBACK(on_form_changed), self);
      } else {
        o.entry = gtk_entry_new();
        gtk_widget_set_valign(o.entry, GTK_ALIGN_CENTER);
        gboolean wide = s->kind == TS_OPT_DATA || s->kind == TS_OPT_OPEN_FILE || s->kind == TS_OPT_SAVE_FILE ||
                        s->kind == TS_OPT_TEXT;
        gtk_editable_set_width_chars(GTK_EDITABLE(o.entry), wide ? 16 : 8);
        const char *ph = *s->def ? s->def : s->kind == TS_OPT_DATA && !strcmp(s->name, "data") ? "required" : "default";
        gtk_entry_set_placeholder_text(GTK_ENTRY(o.entry), ph);
        gtk_widget_set_tooltip_text(o.entry, tip);
        adw_action_row_add_suffix(ADW_ACTION_ROW(o.row), o.entry);
        adw_action_row_set_activatable_widget(ADW_ACTION_ROW(o.row), o.entry);
        g_signal_connect_swapped(o.entry, "changed", G_CALLBACK(on_form_changed), self);
        if (s->kind == TS_OPT_DATA || s->kind == TS_OPT_OPEN_FILE || s->kind == TS_OPT_SAVE_FILE) {
          GtkWidget *b = gtk_button_new_from_icon_name("document-open-symbolic");
          gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class(b, "flat");
          gtk_widget_set_tooltip_text(b, s->kind == TS_OPT_DATA ? "Choose a folder of images (folder:DIR)"
                                                                : "Choose a file");
          g_object_set_data(G_OBJECT(b), "entry", o.entry);
          g_object_set_data(G_OBJECT(b), "spec", (gpointer)(guintptr)s); /* read only */
          g_signal_connect(b, "clicked", G_CALLBACK(on_choose_file), self);
          adw_action_row_add_suffix(ADW_ACTION_ROW(o.row), b);
        }
      }
    }
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(o.row), title);
    if (ADW_IS_ACTION_ROW(o.row)) adw_action_row_set_subtitle(ADW_ACTION_ROW(o.row), sub);
    else adw_combo_row_set_use_subtitle(ADW_COMBO_ROW(o.row), FALSE);
    gtk_widget_set_tooltip_text(o.row, tip);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(self->groups[s->group]), o.row);
    g_array_append_val(self->opts, o);
    g_free(title);
    g_free(tip);
    g_free(sub);
  }
}

static void update_visibility(TsTrainPanel *self) {
  gboolean any[TS_OPT_N_GROUPS] = {0};
  for (guint i = 0; i < self->opts->len; i++) {
    Opt *o = &g_array_index(self->opts, Opt, i);
    gboolean v = opt_visible(self, o);
    gtk_widget_set_visible(o->row, v);
    any[o->spec->group] |= v;
  }
  for (int g = 0; g < TS_OPT_N_GROUPS; g++) gtk_widget_set_visible(self->groups[g], any[g]);
  gtk_widget_set_sensitive(self->preset_row, !workflows[self->workflow].resume);
}

static void on_workflow_changed(TsTrainPanel *self) {
  self->workflow = adw_combo_row_get_selected(ADW_COMBO_ROW(self->workflow_row));
  if (self->workflow >= G_N_ELEMENTS(workflows)) self->workflow = 0;
  update_visibility(self);
  refresh_command(self);
}

static void set_opt(Opt *o, const char *v) {
  if (o->sw) {
    gtk_switch_set_active(GTK_SWITCH(o->sw), v && *v && strcmp(v, "0") && strcmp(v, "off"));
  } else if (o->combo) {
    GListModel *m = adw_combo_row_get_model(ADW_COMBO_ROW(o->combo));
    const char *want = v && *v ? v : o->spec->def;
    for (guint k = 0; k < g_list_model_get_n_items(m); k++)
      if (!strcmp(gtk_string_list_get_string(GTK_STRING_LIST(m), k), want))
        adw_combo_row_set_selected(ADW_COMBO_ROW(o->combo), k);
  } else {
    gtk_editable_set_text(GTK_EDITABLE(o->entry), v ? v : "");
  }
}

void ts_train_panel_apply_preset(TsTrainPanel *self, guint index) {
  if (index >= G_N_ELEMENTS(presets)) return;
  self->applying = TRUE;
  Opt *data = find_opt(self, "data");
  char *keep = data ? g_strdup(opt_value(data)) : NULL;
  for (guint i = 0; i < self->opts->len; i++) set_opt(&g_array_index(self->opts, Opt, i), NULL);
  if (data) set_opt(data, keep);
  g_free(keep);
  ts_train_panel_set_workflow(self, "classify");
  for (int k = 0; presets[index].values[k][0]; k++) {
    if (!strcmp(presets[index].values[k][0], "workflow")) {
      ts_train_panel_set_workflow(self, presets[index].values[k][1]);
      continue;
    }
    Opt *o = find_opt(self, presets[index].values[k][0]);
    if (o) set_opt(o, presets[index].values[k][1]);
  }
  if (adw_combo_row_get_selected(ADW_COMBO_ROW(self->preset_row)) != index)
    adw_combo_row_set_selected(ADW_COMBO_ROW(self->preset_row), index);
  gtk_widget_set_tooltip_text(self->preset_row, presets[index].tooltip);
  self->applying = FALSE;
  refresh_command(self);
}

static void on_preset_changed(TsTrainPanel *self) {
  if (self->applying) return;
  ts_train_panel_apply_preset(self, adw_combo_row_get_selected(ADW_COMBO_ROW(self->preset_row)));
}

gboolean ts_train_panel_set_workflow(TsTrainPanel *self, const char *id) {
  for (guint i = 0; i < G_N_ELEMENTS(workflows); i++)
    if (!strcmp(workflows[i].id, id)) {
      adw_combo_row_set_selected(ADW_COMBO_ROW(self->workflow_row), i);
      on_workflow_changed(self);
      return TRUE;
    }
  return FALSE;
}

void ts_train_panel_set_option(TsTrainPanel *self, const char *name, const char *value) {
  Opt *o = find_opt(self, name);
  if (o) set_opt(o, value);
}

const char *ts_train_panel_get_command_line(TsTrainPanel *self) { return self->command; }

static void on_copy(TsTrainPanel *self) {
  gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)), self->command);
  message(self, "Command line copied");
}

/* --- starting and following runs ----------------------------------------------------- */

static void followed_free(gpointer p) {
  Followed *f = p;
  g_clear_object(&f->proc);
  g_free(f->log_path);
  g_free(f->fail);
  g_free(f);
}

static char *program_path(TsTrainPanel *self, GError **error) {
  return self->program ? g_strdup(self->program) : g_file_read_link("/proc/self/exe", error);
}

/* A session of its own: the run outlives the window, and Ctrl+C in the
 * workbench's terminal does not reach it. */
static void child_setup(gpointer data) {
  (void)data;
  setsid();
}

/* The last line of the log that says something (the command's error line). */
static char *log_last_line(const char *path) {
  char *text = NULL;
  if (!path || !g_file_get_contents(path, &text, NULL, NULL)) return NULL;
  char *line = NULL;
  char **lines = g_strsplit(text, "\n", -1);
  for (int i = (int)g_strv_length(lines) - 1; i >= 0 && !line; i--) {
    char *l = g_strstrip(lines[i]);
    if (*l && !g_str_has_prefix(l, "Try 'toposcope")) line = g_strdup(l);
  }
  g_strfreev(lines);
  g_free(text);
  return line;
}

static void on_proc_exit(GObject *src, GAsyncResult *res, gpointer user_data) {
  GError *error = NULL;
  if (!g_subprocess_wait_finish(G_SUBPROCESS(src), res, &error)) {
    g_error_free(error); /* cancelled: the panel is gone, the run goes on */
    return;
  }
  Followed *f = user_data;
  TsTrainPanel *self = g_object_get_data(src, "panel");
  if (!self || f->proc != G_SUBPROCESS(src)) return;
  GSubprocess *p = G_SUBPROCESS(src);
  int code = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
  if (code != 0 && code != 130 && code != 143) {
    char *last = log_last_line(f->log_path);
    g_free(f->fail);
    f->fail = g_strdup_printf("%s (log: %s)", last ? last : "the command failed", f->log_path);
    g_free(last);
  }
  g_clear_object(&f->proc);
  if (self->sub.reader) ts_store_reader_poke(self->sub.reader);
  refresh_rows(self);
}

static GtkWidget *make_row(TsTrainPanel *self, Followed *f);

static Followed *spawn(TsTrainPanel *self, GPtrArray *args, Followed *reuse) {
  GError *error = NULL;
  char *exe = program_path(self, &error);
  if (!exe) {
    message(self, error->message);
    g_error_free(error);
    return NULL;
  }
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, exe);
  for (guint i = 1; i < args->len; i++) g_ptr_array_add(argv, g_strdup(g_ptr_array_index(args, i)));
  g_ptr_array_add(argv, NULL);
  char *dir = g_build_filename(g_get_user_cache_dir(), "toposcope", "logs", NULL);
  g_mkdir_with_parents(dir, 0777);
  GDateTime *now = g_date_time_new_now_local();
  char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_date_time_unref(now);
  const char *cmd = args->len > 1 ? g_ptr_array_index(args, 1) : "train";
  gboolean experiment = !strcmp(cmd, "experiment");
  char *base = g_strdup_printf("%s-%s-%d-%d.log", cmd, stamp, (int)getpid(), ++self->n_started);
  char *log = g_build_filename(dir, base, NULL);
  g_free(base), g_free(stamp), g_free(dir);
  GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE | G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_stdout_file_path(l, log);
  g_subprocess_launcher_setenv(l, "TOPOSCOPE_NO_PROGRESS", "1", TRUE);
  g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
  GSubprocess *proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
  g_object_unref(l);
  g_ptr_array_unref(argv);
  if (!proc) {
    char *m = g_strdup_printf("Cannot start toposcope %s: %s", cmd, error->message);
    message(self, m);
    g_free(m);
    g_error_free(error);
    g_free(log);
    self->n_started--;
    return NULL;
  }
  Followed *f = reuse;
  if (!f) {
    f = g_new0(Followed, 1);
    f->run = -1;
    f->start_index = self->n_new++;
    g_ptr_array_insert(self->followed, 0, f);
    f->row = make_row(self, f);
    gtk_list_box_prepend(GTK_LIST_BOX(self->runs_list), f->row);
  }
  g_clear_object(&f->proc);
  f->proc = proc;
  g_object_set_data(G_OBJECT(proc), "panel", self);
  const char *id = g_subprocess_get_identifier(proc);
  f->experiment = experiment;
  /* an experiment has no run of its own: its fine-tunings (other processes)
   * are adopted as they start, so its pid matches nothing */
  f->pid = id && !experiment ? g_ascii_strtoll(id, NULL, 10) : 0;
  f->spawned = g_get_real_time() / G_USEC_PER_SEC;
  g_free(f->log_path);
  f->log_path = log;
  g_clear_pointer(&f->fail, g_free);
  f->rate_t = 0, f->rate = 0;
  g_subprocess_wait_async(proc, self->cancel, on_proc_exit, f);
  if (self->sub.reader) ts_store_reader_poke(self->sub.reader);
  refresh_rows(self);
  select_followed(self, f);
  return f;
}

gboolean ts_train_panel_start(TsTrainPanel *self) {
  refresh_command(self);
  if (!gtk_widget_get_sensitive(self->start_button)) {
    message(self, gtk_label_get_text(GTK_LABEL(self->form_error)));
    return FALSE;
  }
  /* a resume of a followed run merges into its row once the store shows it */
  return spawn(self, self->argv, NULL) != NULL;
}

static void on_start(TsTrainPanel *self) { ts_train_panel_start(self); }

/* --- rows ------------------------------------------------------------------------------ */

static Followed *followed_of_run(TsTrainPanel *self, gint64 run) {
  for (guint i = 0; i < self->followed->len; i++) {
    Followed *f = g_ptr_array_index(self->followed, i);
    if (f->run == run && run >= 0) return f;
  }
  return NULL;
}

static void on_stop_clicked(GtkButton *b, TsTrainPanel *self) {
  Followed *f = g_object_get_data(G_OBJECT(b), "followed");
  if (f->proc) g_subprocess_send_signal(f->proc, SIGINT);
  else if (f->run >= 0) ts_train_panel_stop_run(self, f->run);
}

static void on_resume_clicked(GtkButton *b, TsTrainPanel *self) {
  Followed *f = g_object_get_data(G_OBJECT(b), "followed");
  if (f->run >= 0) ts_train_panel_resume_run(self, f->run);
}

static GtkWidget *make_row(TsTrainPanel *self, Followed *f) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_start(box, 12);
  gtk_widget_set_margin_end(box, 12);
  gtk_widget_set_margin_top(box, 8);
  gtk_widget_set_margin_bottom(box, 8);
  GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_size_request(text, 220, -1);
  f->title = gtk_label_new("Starting…");
  gtk_label_set_xalign(GTK_LABEL(f->title), 0);
  gtk_label_set_ellipsize(GTK_LABEL(f->title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class(f->title, "heading");
  f->subtitle = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(f->subtitle), 0);
  gtk_label_set_ellipsize(GTK_LABEL(f->subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class(f->subtitle, "dim-label");
  gtk_widget_add_css_class(f->subtitle, "caption");
  gtk_box_append(GTK_BOX(text), f->title);
  gtk_box_append(GTK_BOX(text), f->subtitle);
  f->bar = gtk_progress_bar_new();
  gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(f->bar), TRUE);
  gtk_widget_set_hexpand(f->bar, TRUE);
  gtk_widget_set_valign(f->bar, GTK_ALIGN_CENTER);
  f->eta = gtk_label_new("");
  gtk_label_set_width_chars(GTK_LABEL(f->eta), 12);
  gtk_label_set_xalign(GTK_LABEL(f->eta), 1);
  gtk_widget_add_css_class(f->eta, "numeric");
  f->stop = gtk_button_new_from_icon_name("media-playback-stop-symbolic");
  gtk_widget_set_tooltip_text(f->stop, "Stop: the run writes a checkpoint and can be resumed");
  gtk_widget_set_valign(f->stop, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class(f->stop, "circular");
  f->resume = gtk_button_new_from_icon_name("media-playback-start-symbolic");
  gtk_widget_set_tooltip_text(f->resume, "Resume from the run's last checkpoint");
  gtk_widget_set_valign(f->resume, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class(f->resume, "circular");
  g_object_set_data(G_OBJECT(f->stop), "followed", f);
  g_object_set_data(G_OBJECT(f->resume), "followed", f);
  g_signal_connect(f->stop, "clicked", G_CALLBACK(on_stop_clicked), self);
  g_signal_connect(f->resume, "clicked", G_CALLBACK(on_resume_clicked), self);
  gtk_box_append(GTK_BOX(box), text);
  gtk_box_append(GTK_BOX(box), f->bar);
  gtk_box_append(GTK_BOX(box), f->eta);
  gtk_box_append(GTK_BOX(box), f->stop);
  gtk_box_append(GTK_BOX(box), f->resume);
  GtkWidget *row = gtk_list_box_row_new();
  gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
  g_object_set_data(G_OBJECT(row), "followed", f);
  return row;
}

static void format_span(double s, char *buf, size_t n) {
  if (!isfinite(s) || s < 0) snprintf(buf, n, "—");
  else if (s < 60) snprintf(buf, n, "%.0f s", s);
  else if (s < 3600) snprintf(buf, n, "%d min %02d s", (int)s / 60, (int)s % 60);
  else snprintf(buf, n, "%d h %02d min", (int)s / 3600, (int)s / 60 % 60);
}

static const char *status_word(TsRunStatus s) {
  switch (s) {
  case TS_RUN_RUNNING: return "running";
  case TS_RUN_FINISHED: return "finished";
  case TS_RUN_FAILED: return "failed";
  case TS_RUN_STOPPED: return "stopped";
  case TS_RUN_INTERRUPTED: return "interrupted (its process died)";
  }
  return "?";
}

static void update_status_text(TsTrainPanel *self) {
  Followed *f = self->selected;
  GString *t = g_string_new(NULL);
  gboolean bad = FALSE;
  const TsRunSummary *s = f && f->run >= 0 && self->sub.reader ? ts_store_reader_find_run(self->sub.reader, f->run) : NULL;
  gtk_widget_set_visible(self->status_label, f != NULL); /* the list's placeholder says it all */
  if (!f) {
    g_string_append(t, "No run selected.");
  } else if (f->experiment) {
    if (f->fail) g_string_append_printf(t, "Experiment failed: %s", f->fail), bad = TRUE;
    else if (f->proc) g_string_append(t, "Experiment running: its fine-tunings are listed as they start; the Runs "
                                         "panel's Experiments page tabulates them");
    else g_string_append(t, "Experiment finished: its table is in the Runs panel's Experiments page");
  } else if (!s) {
    if (f->fail) g_string_append_printf(t, "Failed to start: %s", f->fail), bad = TRUE;
    else g_string_append(t, "Starting: waiting for the run to appear in the store…");
  } else {
    const TsRunInfo *r = &s->info;
    g_string_append_printf(t, "Run %" G_GINT64_FORMAT " · %s", r->id, status_word(r->status));
    if (r->status == TS_RUN_FAILED) {
      g_string_append_printf(t, ": %s", r->message ? r->message : (f->fail ? f->fail : "no message"));
      bad = TRUE;
    } else if (r->status == TS_RUN_STOPPED || r->status == TS_RUN_INTERRUPTED) {
      g_string_append(t, " — Resume continues it from its last checkpoint");
    }
    if (f->fail && r->status != TS_RUN_FAILED && !f->proc && r->status != TS_RUN_RUNNING)
      g_string_append_printf(t, " · %s", f->fail), bad = TRUE;
    if (self->last_step > 0) g_string_append_printf(t, " · step %" G_GINT64_FORMAT, self->last_step);
    if (isfinite(self->last_ips) && self->last_ips > 0) g_string_append_printf(t, " · %.0f images/s", self->last_ips);
    if (s->best_name) {
      if (!strcmp(s->best_name, "val/accuracy"))
        g_string_append_printf(t, " · best validation accuracy %.2f%%", 100 * s->best);
      else g_string_append_printf(t, " · best validation loss %.4g", s->best);
    }
  }
  if (bad) gtk_widget_add_css_class(self->status_label, "error");
  else gtk_widget_remove_css_class(self->status_label, "error");
  g_free(self->status_text);
  self->status_text = g_string_free(t, FALSE);
  gtk_label_set_text(GTK_LABEL(self->status_label), self->status_text);
}

static void refresh_row(TsTrainPanel *self, Followed *f) {
  const TsRunSummary *s = f->run >= 0 && self->sub.reader ? ts_store_reader_find_run(self->sub.reader, f->run) : NULL;
  char buf[256], span[64];
  if (f->experiment) {
    gtk_label_set_text(GTK_LABEL(f->title), "Experiment");
    gtk_label_set_text(GTK_LABEL(f->subtitle), f->fail ? f->fail : f->log_path);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(f->bar), f->fail ? "failed" : f->proc ? "running" : "finished");
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(f->bar), f->proc || f->fail ? 0 : 1);
    gtk_widget_set_visible(f->stop, f->proc != NULL);
    gtk_widget_set_visible(f->resume, FALSE);
    gtk_label_set_text(GTK_LABEL(f->eta), "");
    return;
  }
  if (!s) {
    gtk_label_set_text(GTK_LABEL(f->title), f->fail ? "Failed to start" : "Starting…");
    gtk_label_set_text(GTK_LABEL(f->subtitle), f->fail ? f->fail : "waiting for the store");
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(f->bar), f->fail ? "failed" : "starting");
    gtk_widget_set_sensitive(f->stop, f->proc != NULL);
    gtk_widget_set_visible(f->resume, FALSE);
    gtk_label_set_text(GTK_LABEL(f->eta), "");
    return;
  }
  const TsRunInfo *r = &s->info;
  gtk_label_set_text(GTK_LABEL(f->title), r->name);
  GDateTime *dt = g_date_time_new_from_unix_local((gint64)r->started);
  char *started = dt ? g_date_time_format(dt, "%H:%M") : g_strdup("?");
  if (dt) g_date_time_unref(dt);
  snprintf(buf, sizeof buf, "Run %" G_GINT64_FORMAT " · %s · started %s", r->id, ts_run_status_name(r->status),
           started);
  g_free(started);
  gtk_label_set_text(GTK_LABEL(f->subtitle), buf);
  double frac = r->progress_total > 0 ? (double)r->progress_done / (double)r->progress_total : 0;
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(f->bar), CLAMP(frac, 0, 1));
  if (r->progress_total > 0)
    snprintf(buf, sizeof buf, "step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, r->progress_done, r->progress_total);
  else snprintf(buf, sizeof buf, "%s", ts_run_status_name(r->status));
  gtk_progress_bar_set_text(GTK_PROGRESS_BAR(f->bar), buf);
  double now = g_get_real_time() / 1e6;
  if (r->status == TS_RUN_RUNNING) {
    /* the rate this panel has seen (a resumed run's start says nothing) */
    if (f->rate_t == 0 || (double)r->progress_done < f->rate_done0) f->rate_t = now, f->rate_done0 = (double)r->progress_done;
    else if (now - f->rate_t > 1.0) f->rate = ((double)r->progress_done - f->rate_done0) / (now - f->rate_t);
    double rate = f->rate > 0 ? f->rate : (now - r->started > 1 ? (double)r->progress_done / (now - r->started) : 0);
    if (rate > 0 && r->progress_total > 0) {
      format_span(((double)r->progress_total - (double)r->progress_done) / rate, span, sizeof span);
      snprintf(buf, sizeof buf, "ETA %s", span);
    } else {
      snprintf(buf, sizeof buf, "ETA —");
    }
  } else {
    format_span((r->ended > 0 ? r->ended : now) - r->started, span, sizeof span);
    snprintf(buf, sizeof buf, "%s", r->ended > 0 ? span : "");
  }
  gtk_label_set_text(GTK_LABEL(f->eta), buf);
  gtk_widget_set_visible(f->stop, r->status == TS_RUN_RUNNING);
  gtk_widget_set_visible(f->resume, (r->status == TS_RUN_STOPPED || r->status == TS_RUN_INTERRUPTED) && !f->proc);
}

static void refresh_rows(TsTrainPanel *self) {
  for (guint i = 0; i < self->followed->len; i++) refresh_row(self, g_ptr_array_index(self->followed, i));
  gtk_widget_set_visible(self->placeholder, self->followed->len == 0);
  update_status_text(self);
}

static void on_runs_changed(TsStoreReader *reader, TsTrainPanel *self) {
  guint n;
  const TsRunSummary *runs = ts_store_reader_get_runs(reader, &n);
  /* our processes: their run is the training run with their pid */
  for (guint i = 0; i < self->followed->len; i++) {
    Followed *f = g_ptr_array_index(self->followed, i);
    if (f->run >= 0 || f->pid <= 0) continue;
    for (guint k = 0; k < n; k++) {
      const TsRunInfo *r = &runs[k].info;
      if (r->pid == f->pid && !strcmp(r->kind, "train") && !strcmp(r->host, self->host) &&
          (r->started >= (double)f->spawned - 2 || r->ended == 0 || r->ended >= (double)f->spawned - 2)) {
        Followed *dup = followed_of_run(self, r->id); /* a resume started from the form */
        if (dup && dup != f && !dup->proc) {
          g_ptr_array_remove(self->followed, dup);
          if (self->selected == dup) self->selected = NULL;
          gtk_list_box_remove(GTK_LIST_BOX(self->runs_list), dup->row);
          followed_free(dup);
        }
        f->run = r->id;
        if (self->selected == f) select_followed(self, f);
        break;
      }
    }
  }
  /* runs deleted from the store leave the list */
  for (guint i = self->followed->len; i-- > 0;) {
    Followed *f = g_ptr_array_index(self->followed, i);
    if (f->run < 0 || f->proc || ts_store_reader_get_state(reader) != TS_STORE_STATE_OPEN ||
        ts_store_reader_find_run(reader, f->run))
      continue;
    if (self->selected == f) select_followed(self, NULL);
    gtk_list_box_remove(GTK_LIST_BOX(self->runs_list), f->row);
    g_ptr_array_remove_index(self->followed, i);
  }
  /* training runs still running when the panel opened (or started elsewhere) */
  for (guint k = n; k-- > 0;) {
    const TsRunInfo *r = &runs[k].info;
    if (strcmp(r->kind, "train") || r->status != TS_RUN_RUNNING || followed_of_run(self, r->id)) continue;
    gboolean ours = FALSE;
    for (guint i = 0; i < self->followed->len; i++) {
      Followed *f = g_ptr_array_index(self->followed, i);
      if (f->run < 0 && f->pid == r->pid) ours = TRUE;
    }
    if (ours) continue;
    Followed *f = g_new0(Followed, 1);
    f->run = r->id;
    f->start_index = -1;
    g_ptr_array_insert(self->followed, 0, f);
    f->row = make_row(self, f);
    gtk_list_box_prepend(GTK_LIST_BOX(self->runs_list), f->row);
    if (!self->selected) select_followed(self, f);
  }
  refresh_rows(self);
}

/* --- the selected run's plots ------------------------------------------------------------- */

static void on_rows(TsStoreReader *reader, gint64 run, const char *name, const TsMetricRow *rows, gsize n,
                    gpointer user_data) {
  (void)reader;
  TsTrainPanel *self = user_data;
  if (!self->selected || self->selected->run != run) return;
  if (!strcmp(name, "train/loss")) { /* the per-step stream: thousands of rows at once */
    double *x = g_new(double, n ? n : 1), *y = g_new(double, n ? n : 1);
    for (gsize i = 0; i < n; i++) {
      x[i] = (double)rows[i].step, y[i] = rows[i].value;
      self->last_step = MAX(self->last_step, rows[i].step);
    }
    ts_line_plot_append_points(TS_LINE_PLOT(self->loss_plot), 0, x, y, n);
    self->loss_points += (guint)n;
    g_free(x), g_free(y);
    update_status_text(self);
    return;
  }
  for (int w = 0; w < N_WATCH; w++) {
    if (strcmp(name, watch_names[w])) continue;
    for (gsize i = 0; i < n; i++) {
      const TsMetricRow *r = &rows[i];
      switch (w) {
      case W_LOSS:
        ts_line_plot_append(TS_LINE_PLOT(self->loss_plot), 0, (double)r->step, r->value);
        self->loss_points++;
        self->last_step = MAX(self->last_step, r->step);
        break;
      case W_VAL_LOSS: ts_line_plot_append(TS_LINE_PLOT(self->loss_plot), 1, (double)r->step, r->value); break;
      case W_TRAIN_ACC: ts_line_plot_append(TS_LINE_PLOT(self->acc_plot), 0, (double)r->epoch + 1, 100 * r->value); break;
      case W_VAL_ACC: ts_line_plot_append(TS_LINE_PLOT(self->acc_plot), 1, (double)r->epoch + 1, 100 * r->value); break;
      case W_LR: ts_line_plot_append(TS_LINE_PLOT(self->lr_plot), 0, (double)r->step, r->value); break;
      case W_IPS:
        ts_line_plot_append(TS_LINE_PLOT(self->ips_plot), 0, (double)r->epoch + 1, r->value);
        self->last_ips = r->value;
        break;
      }
    }
  }
  update_status_text(self);
}

/* The loss plot's y label says which loss it is: the run's task, read off
 * its parameters (regression runs record "task": "ph" and an MSE loss). */
static void select_plots(TsTrainPanel *self, gint64 run) {
  const TsRunSummary *s = ts_store_reader_find_run(self->sub.reader, run);
  char task[32] = "";
  if (s && s->info.params_json) ts_json_get_string(s->info.params_json, "task", task, sizeof task, NULL);
  gboolean mse = !strcmp(task, "ph") || !strcmp(task, "vae");
  ts_line_plot_set_labels(TS_LINE_PLOT(self->loss_plot), "Loss", "step", mse ? "loss" : "cross-entropy");
}

static void clear_plots(TsTrainPanel *self) {
  ts_line_plot_clear(TS_LINE_PLOT(self->loss_plot));
  ts_line_plot_add_series(TS_LINE_PLOT(self->loss_plot), "train (per step)");
  ts_line_plot_add_series(TS_LINE_PLOT(self->loss_plot), "validation (per epoch)");
  ts_line_plot_clear(TS_LINE_PLOT(self->acc_plot));
  ts_line_plot_add_series(TS_LINE_PLOT(self->acc_plot), "train");
  ts_line_plot_add_series(TS_LINE_PLOT(self->acc_plot), "validation");
  ts_line_plot_clear(TS_LINE_PLOT(self->lr_plot));
  ts_line_plot_add_series(TS_LINE_PLOT(self->lr_plot), NULL);
  ts_line_plot_clear(TS_LINE_PLOT(self->ips_plot));
  ts_line_plot_add_series(TS_LINE_PLOT(self->ips_plot), NULL);
  self->loss_points = 0;
  self->last_step = 0;
  self->last_ips = NAN;
}

static void unwatch_all(TsTrainPanel *self) {
  for (int w = 0; w < N_WATCH; w++) {
    if (self->sub.reader && self->watches[w]) ts_store_reader_unwatch(self->sub.reader, self->watches[w]);
    self->watches[w] = 0;
  }
}

static void select_followed(TsTrainPanel *self, Followed *f) {
  gint64 was = self->selected ? self->selected->run : -2;
  gboolean same = self->selected == f && was >= 0 && self->watches[0];
  self->selected = f;
  if (f && gtk_list_box_get_selected_row(GTK_LIST_BOX(self->runs_list)) != GTK_LIST_BOX_ROW(f->row))
    gtk_list_box_select_row(GTK_LIST_BOX(self->runs_list), GTK_LIST_BOX_ROW(f->row));
  if (same) return;
  unwatch_all(self);
  clear_plots(self);
  if (f && f->run >= 0 && self->sub.reader)
    for (int w = 0; w < N_WATCH; w++)
      self->watches[w] = ts_store_reader_watch_metric(self->sub.reader, f->run, watch_names[w], on_rows, self, NULL);
  if (f && f->run >= 0 && self->sub.reader) select_plots(self, f->run);
  update_status_text(self);
}

static void on_row_selected(TsTrainPanel *self, GtkListBoxRow *row) {
  Followed *f = row ? g_object_get_data(G_OBJECT(row), "followed") : NULL;
  if (f && f != self->selected) select_followed(self, f);
}

/* --- stop and resume ------------------------------------------------------------------------ */

void ts_train_panel_stop_run(TsTrainPanel *self, gint64 run) {
  Followed *f = followed_of_run(self, run);
  if (f && f->proc) {
    g_subprocess_send_signal(f->proc, SIGINT);
    return;
  }
  const TsRunSummary *s = self->sub.reader ? ts_store_reader_find_run(self->sub.reader, run) : NULL;
  if (!s || s->info.status != TS_RUN_RUNNING) return;
  if (strcmp(s->info.host, self->host) != 0 || s->info.pid <= 0) {
    char *m = g_strdup_printf("Run %" G_GINT64_FORMAT " runs on %s: stop it there", run, s->info.host);
    message(self, m);
    g_free(m);
    return;
  }
  /* SIGINT, as Ctrl+C: the run writes its checkpoint and records itself stopped */
  if (kill((pid_t)s->info.pid, SIGINT) != 0) {
    char *m = g_strdup_printf("Cannot stop run %" G_GINT64_FORMAT ": %s", run, g_strerror(errno));
    message(self, m);
    g_free(m);
  }
}

typedef struct {
  gint64 run;
} ResumeRq;

/* The run's newest checkpoint: its artifacts, else the "save" parameter. */
static gpointer checkpoint_query(TsStore *store, gpointer data, GError **error) {
  ResumeRq *rq = data;
  char **kinds, **paths;
  size_t n;
  TsError err = {0};
  char *found = NULL;
  if (ts_store_artifacts(store, rq->run, &kinds, &paths, &n, &err) == TS_OK) {
    for (size_t i = n; i-- > 0 && !found;)
      if (!strcmp(kinds[i], "checkpoint") && g_file_test(paths[i], G_FILE_TEST_EXISTS)) found = g_strdup(paths[i]);
    ts_store_free_strings(kinds, n);
    ts_store_free_strings(paths, n);
  }
  if (!found) {
    TsRunInfo info;
    char save[4096];
    if (ts_store_get_run(store, rq->run, &info, &err) == TS_OK) {
      if (info.params_json && ts_json_get_string(info.params_json, "save", save, sizeof save, NULL) == TS_OK &&
          *save && g_file_test(save, G_FILE_TEST_EXISTS))
        found = g_strdup(save);
      ts_run_info_clear(&info);
    }
  }
  if (!found)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "run %" G_GINT64_FORMAT " has no checkpoint to resume from",
                rq->run);
  return found;
}

typedef struct {
  TsTrainPanel *self;
  gint64 run;
} ResumeCtx;

static void resume_found(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  ResumeCtx *ctx = user_data;
  GError *error = NULL;
  char *ckpt = ts_store_reader_query_finish(res, &error);
  if (!ckpt) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) message(ctx->self, error->message);
    g_error_free(error);
    g_free(ctx);
    return;
  }
  TsTrainPanel *self = ctx->self;
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(a, g_strdup("toposcope"));
  g_ptr_array_add(a, g_strdup("train"));
  g_ptr_array_add(a, g_strdup("--resume"));
  g_ptr_array_add(a, ckpt);
  char *def = default_store();
  const char *store = ts_store_reader_get_path(self->sub.reader);
  if (store && g_strcmp0(store, def)) {
    g_ptr_array_add(a, g_strdup("--store"));
    g_ptr_array_add(a, g_strdup(store));
  }
  g_free(def);
  Followed *f = followed_of_run(self, ctx->run);
  if (!f) {
    f = g_new0(Followed, 1);
    f->run = ctx->run;
    f->start_index = -1;
    g_ptr_array_insert(self->followed, 0, f);
    f->row = make_row(self, f);
    gtk_list_box_prepend(GTK_LIST_BOX(self->runs_list), f->row);
  }
  spawn(self, a, f);
  g_ptr_array_unref(a);
  g_free(ctx);
}

void ts_train_panel_resume_run(TsTrainPanel *self, gint64 run) {
  if (!self->sub.reader) return;
  ResumeRq *rq = g_new(ResumeRq, 1);
  rq->run = run;
  ResumeCtx *ctx = g_new(ResumeCtx, 1);
  ctx->self = self;
  ctx->run = run;
  ts_store_reader_query(self->sub.reader, checkpoint_query, rq, g_free, g_free, self->cancel, resume_found, ctx);
}

/* --- object ------------------------------------------------------------------------------------ */

static void on_store_changed(TsStoreReader *reader, TsTrainPanel *self) {
  /* watches ended with the old store; runs of the new one are found on the
   * next list. When another store opened, the rows of the old one go (their
   * processes go on, writing the old store). */
  for (int w = 0; w < N_WATCH; w++) self->watches[w] = 0;
  if (g_strcmp0(self->store_seen, ts_store_reader_get_path(reader))) {
    g_free(self->store_seen);
    self->store_seen = g_strdup(ts_store_reader_get_path(reader));
    self->selected = NULL;
    for (guint i = 0; i < self->followed->len; i++) {
      Followed *f = g_ptr_array_index(self->followed, i);
      if (f->proc) g_object_set_data(G_OBJECT(f->proc), "panel", NULL);
      gtk_list_box_remove(GTK_LIST_BOX(self->runs_list), f->row);
    }
    g_ptr_array_set_size(self->followed, 0);
    select_followed(self, NULL);
    refresh_rows(self);
  } else {
    Followed *f = self->selected;
    self->selected = NULL;
    if (f) select_followed(self, f);
  }
  refresh_command(self);
}

void ts_train_panel_set_reader(TsTrainPanel *self, TsStoreReader *reader) {
  if (self->sub.reader) unwatch_all(self);
  ts_store_subscription_set(&self->sub, reader, G_CALLBACK(on_runs_changed), G_CALLBACK(on_store_changed), self);
  if (reader) {
    g_free(self->store_seen);
    self->store_seen = g_strdup(ts_store_reader_get_path(reader));
    on_runs_changed(reader, self);
  }
  refresh_command(self);
}

void ts_train_panel_set_program(TsTrainPanel *self, const char *path) {
  g_free(self->program);
  self->program = g_strdup(path);
}

guint ts_train_panel_get_n_followed(TsTrainPanel *self) { return self->followed->len; }
gint64 ts_train_panel_get_selected_run(TsTrainPanel *self) { return self->selected ? self->selected->run : -1; }
void ts_train_panel_select_run(TsTrainPanel *self, gint64 run) {
  Followed *f = followed_of_run(self, run);
  if (f) select_followed(self, f);
}
gint64 ts_train_panel_get_started_run(TsTrainPanel *self, guint n) {
  for (guint i = 0; i < self->followed->len; i++) {
    Followed *f = g_ptr_array_index(self->followed, i);
    if (f->start_index == (int)n) return f->run;
  }
  return -1;
}
guint ts_train_panel_get_loss_points(TsTrainPanel *self) { return self->loss_points; }
TsLinePlot *ts_train_panel_get_loss_plot(TsTrainPanel *self) { return TS_LINE_PLOT(self->loss_plot); }
const char *ts_train_panel_get_status_text(TsTrainPanel *self) { return self->status_text ? self->status_text : ""; }

static void ts_train_panel_dispose(GObject *o) {
  TsTrainPanel *self = TS_TRAIN_PANEL(o);
  if (self->cancel) g_cancellable_cancel(self->cancel); /* the runs go on */
  for (guint i = 0; self->followed && i < self->followed->len; i++) {
    Followed *f = g_ptr_array_index(self->followed, i);
    if (f->proc) g_object_set_data(G_OBJECT(f->proc), "panel", NULL);
  }
  ts_train_panel_set_reader(self, NULL);
  gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_TRAIN_PANEL);
  G_OBJECT_CLASS(ts_train_panel_parent_class)->dispose(o);
}

static void ts_train_panel_finalize(GObject *o) {
  TsTrainPanel *self = TS_TRAIN_PANEL(o);
  g_ptr_array_unref(self->followed);
  g_array_unref(self->opts);
  if (self->argv) g_ptr_array_unref(self->argv);
  g_clear_object(&self->cancel);
  g_free(self->command);
  g_free(self->program);
  g_free(self->status_text);
  g_free(self->store_seen);
  G_OBJECT_CLASS(ts_train_panel_parent_class)->finalize(o);
}

static void ts_train_panel_class_init(TsTrainPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_train_panel_dispose;
  oc->finalize = ts_train_panel_finalize;
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/train-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, TsTrainPanel, name)
  CHILD(form_box);
  CHILD(workflow_row);
  CHILD(preset_row);
  CHILD(command_label);
  CHILD(form_error);
  CHILD(copy_button);
  CHILD(start_button);
  CHILD(runs_list);
  CHILD(status_label);
  CHILD(plot_grid);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_copy);
  gtk_widget_class_bind_template_callback(wc, on_start);
  gtk_widget_class_bind_template_callback(wc, on_row_selected);
}

static GtkWidget *plot_card(GtkWidget *plot) {
  GtkWidget *card = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class(card, "plot-card");
  gtk_widget_add_css_class(card, "card");
  gtk_widget_set_vexpand(plot, TRUE);
  gtk_box_append(GTK_BOX(card), plot);
  return card;
}

static void ts_train_panel_init(TsTrainPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->opts = g_array_new(FALSE, TRUE, sizeof(Opt));
  self->followed = g_ptr_array_new_with_free_func(followed_free);
  self->cancel = g_cancellable_new();
  self->last_ips = NAN;
  if (gethostname(self->host, sizeof self->host) != 0) self->host[0] = '\0';
  self->host[sizeof self->host - 1] = '\0';

  GtkStringList *wl = gtk_string_list_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(workflows); i++) gtk_string_list_append(wl, workflows[i].title);
  adw_combo_row_set_model(ADW_COMBO_ROW(self->workflow_row), G_LIST_MODEL(wl));
  g_object_unref(wl);
  GtkStringList *pl = gtk_string_list_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(presets); i++) gtk_string_list_append(pl, presets[i].title);
  adw_combo_row_set_model(ADW_COMBO_ROW(self->preset_row), G_LIST_MODEL(pl));
  g_object_unref(pl);
  g_signal_connect_swapped(self->workflow_row, "notify::selected", G_CALLBACK(on_workflow_changed), self);
  g_signal_connect_swapped(self->preset_row, "notify::selected", G_CALLBACK(on_preset_changed), self);
  build_form(self);

  self->placeholder = gtk_label_new("No training runs yet: choose a workflow and press Start Training. Runs that "
                                    "are running in this store appear here by themselves.");
  gtk_label_set_wrap(GTK_LABEL(self->placeholder), TRUE);
  gtk_widget_add_css_class(self->placeholder, "dim-label");
  gtk_widget_set_margin_top(self->placeholder, 18);
  gtk_widget_set_margin_bottom(self->placeholder, 18);
  gtk_widget_set_margin_start(self->placeholder, 18);
  gtk_widget_set_margin_end(self->placeholder, 18);
  gtk_list_box_set_placeholder(GTK_LIST_BOX(self->runs_list), self->placeholder);

  self->loss_plot = ts_line_plot_new();
  ts_line_plot_set_labels(TS_LINE_PLOT(self->loss_plot), "Loss", "step", "cross-entropy");
  ts_line_plot_set_smoothing(TS_LINE_PLOT(self->loss_plot), 0.6);
  self->acc_plot = ts_line_plot_new();
  ts_line_plot_set_labels(TS_LINE_PLOT(self->acc_plot), "Accuracy per epoch", "epoch", "accuracy (%)");
  self->lr_plot = ts_line_plot_new();
  ts_line_plot_set_labels(TS_LINE_PLOT(self->lr_plot), "Learning rate", "step", "lr");
  self->ips_plot = ts_line_plot_new();
  ts_line_plot_set_labels(TS_LINE_PLOT(self->ips_plot), "Throughput per epoch", "epoch", "images/s");
  gtk_grid_attach(GTK_GRID(self->plot_grid), plot_card(self->loss_plot), 0, 0, 2, 1);
  gtk_grid_attach(GTK_GRID(self->plot_grid), plot_card(self->acc_plot), 2, 0, 1, 1);
  gtk_grid_attach(GTK_GRID(self->plot_grid), plot_card(self->lr_plot), 0, 1, 1, 1);
  gtk_grid_attach(GTK_GRID(self->plot_grid), plot_card(self->ips_plot), 1, 1, 2, 1);
  clear_plots(self);

  ts_train_panel_set_option(self, "data", "fashion-mnist");
  update_visibility(self);
  refresh_rows(self);
  refresh_command(self);
}
