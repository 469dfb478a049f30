/* generate-panel.c — Generate panel: controls, preview worker, dataset job. */
#include "generate-panel.h"

#include <adwaita.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "run/store.h"

struct _TsGeneratePanel {
  GtkBox parent;
  /* template children */
  GtkWidget *size_spin, *spectrum_row, *alpha_min_spin, *alpha_max_spin, *beta_min_spin, *beta_max_spin;
  GtkWidget *binary_scale, *colour_scale, *seed_spin, *count_spin, *val_spin, *folder_row;
  GtkWidget *create_button, *progress_box, *progress_bar, *cancel_button, *job_label;
  GtkWidget *status_label, *spinner, *tile_grid;
  GtkWidget *tiles[TS_GENERATE_PANEL_TILES], *pictures[TS_GENERATE_PANEL_TILES];
  TsImage images[TS_GENERATE_PANEL_TILES];
  GCancellable *preview_cancel;
  guint in_flight, generation;
  char *store_path, *folder, *program;
  /* the dataset job */
  GSubprocess *job;
  GCancellable *job_cancel;
  guint poll_source;
  gboolean poll_in_flight;
  gint64 job_started_us;
};

G_DEFINE_FINAL_TYPE(TsGeneratePanel, ts_generate_panel, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIG_TILE_ACTIVATED, SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- previews ------------------------------------------------------------ */

typedef struct {
  TsGenerateParams params;
} PreviewRequest;

typedef struct {
  TsImage images[TS_GENERATE_PANEL_TILES];
} PreviewResult;

static void preview_result_free(gpointer p) {
  PreviewResult *r = p;
  for (int i = 0; i < TS_GENERATE_PANEL_TILES; i++) ts_image_clear(&r->images[i]);
  g_free(r);
}

static void preview_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  (void)source;
  PreviewRequest *rq = data;
  TsError err = {0};
  TsGenerator *g = NULL;
  if (ts_generator_new(&rq->params, &g, &err) != TS_OK) {
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return;
  }
  PreviewResult *r = g_new0(PreviewResult, 1);
  for (int i = 0; i < TS_GENERATE_PANEL_TILES; i++) {
    /* a newer request makes this one stale: stop early */
    if (g_cancellable_is_cancelled(cancel)) break;
    if (ts_generator_make(g, 0, (uint64_t)i, &r->images[i], NULL, &err) != TS_OK) {
      ts_generator_free(g);
      preview_result_free(r);
      g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  }
  ts_generator_free(g);
  g_task_return_pointer(task, r, preview_result_free);
}

static void set_busy(TsGeneratePanel *self, int delta) {
  gboolean was = self->in_flight > 0;
  self->in_flight = (guint)((int)self->in_flight + delta);
  gboolean now = self->in_flight > 0;
  if (now) gtk_spinner_start(GTK_SPINNER(self->spinner));
  else gtk_spinner_stop(GTK_SPINNER(self->spinner));
  if (was != now) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BUSY]);
}

static GdkTexture *texture_of(const TsImage *img) {
  GBytes *b = g_bytes_new(img->pixels, (gsize)img->width * img->height * img->channels);
  GdkTexture *t = gdk_memory_texture_new(img->width, img->height,
                                         img->channels == 4 ? GDK_MEMORY_R8G8B8A8 : GDK_MEMORY_R8G8B8, b,
                                         (gsize)img->width * img->channels);
  g_bytes_unref(b);
  return t;
}

static void preview_done(GObject *source, GAsyncResult *res, gpointer user_data) {
  (void)user_data;
  TsGeneratePanel *self = TS_GENERATE_PANEL(source);
  GError *error = NULL;
  PreviewResult *r = g_task_propagate_pointer(G_TASK(res), &error);
  if (r) {
    for (int i = 0; i < TS_GENERATE_PANEL_TILES; i++) {
      ts_image_clear(&self->images[i]);
      self->images[i] = r->images[i];
      memset(&r->images[i], 0, sizeof r->images[i]);
      GdkTexture *t = texture_of(&self->images[i]);
      gtk_picture_set_paintable(GTK_PICTURE(self->pictures[i]), GDK_PAINTABLE(t));
      g_object_unref(t);
    }
    preview_result_free(r);
    self->generation++;
    TsGenerateParams p;
    ts_generate_panel_get_params(self, &p);
    char *s = g_strdup_printf("images 0–%d of seed %llu, %d × %d", TS_GENERATE_PANEL_TILES - 1,
                              (unsigned long long)p.seed, p.size, p.size);
    gtk_label_set_text(GTK_LABEL(self->status_label), s);
    g_free(s);
  } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    gtk_label_set_text(GTK_LABEL(self->status_label), error->message);
  }
  g_clear_error(&error);
  set_busy(self, -1);
}

void ts_generate_panel_get_params(TsGeneratePanel *self, TsGenerateParams *p) {
  ts_generate_params_default(p);
  p->size = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->size_spin));
  p->alpha_min = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->alpha_min_spin));
  p->alpha_max = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->alpha_max_spin));
  p->beta_min = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->beta_min_spin));
  p->beta_max = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->beta_max_spin));
  p->prob_binary = gtk_range_get_value(GTK_RANGE(self->binary_scale));
  p->prob_colour = gtk_range_get_value(GTK_RANGE(self->colour_scale));
  p->spectrum = adw_combo_row_get_selected(ADW_COMBO_ROW(self->spectrum_row)) == 1 ? TS_SPECTRUM_RADIAL
                                                                                    : TS_SPECTRUM_KAJI;
  p->seed = (uint64_t)gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->seed_spin));
}

static void regenerate(TsGeneratePanel *self) {
  TsGenerateParams p;
  TsError err = {0};
  ts_generate_panel_get_params(self, &p);
  if (self->preview_cancel) g_cancellable_cancel(self->preview_cancel);
  g_clear_object(&self->preview_cancel);
  if (ts_generate_params_check(&p, &err) != TS_OK) {
    gtk_label_set_text(GTK_LABEL(self->status_label), err.message);
    gtk_widget_set_sensitive(self->create_button, FALSE);
    return;
  }
  gtk_widget_set_sensitive(self->create_button, TRUE);
  self->preview_cancel = g_cancellable_new();
  PreviewRequest *rq = g_new(PreviewRequest, 1);
  rq->params = p;
  GTask *task = g_task_new(self, self->preview_cancel, preview_done, NULL);
  g_task_set_task_data(task, rq, g_free);
  set_busy(self, +1);
  g_task_run_in_thread(task, preview_worker);
  g_object_unref(task);
}

static void on_param_changed(TsGeneratePanel *self) { regenerate(self); }

static void on_tile_clicked(GtkButton *b, TsGeneratePanel *self) {
  guint i = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "tile-index"));
  if (self->images[i].pixels) g_signal_emit(self, signals[SIG_TILE_ACTIVATED], 0, i);
}

/* --- the dataset job ----------------------------------------------------- */

static void message(TsGeneratePanel *self, const char *text) { g_signal_emit(self, signals[SIG_MESSAGE], 0, text); }

static char *store_path(TsGeneratePanel *self) {
  if (self->store_path) return g_strdup(self->store_path);
  char buf[4096];
  TsError err;
  if (ts_store_default_path(buf, sizeof buf, &err) != TS_OK) return NULL;
  return g_strdup(buf);
}

typedef struct {
  char *store;
  gint64 pid;
  gint64 since; /* unix seconds: runs older than the job are not ours */
} PollRequest;

typedef struct {
  gint64 done, total;
  gboolean found;
} PollResult;

static void poll_request_free(gpointer p) {
  PollRequest *r = p;
  g_free(r->store);
  g_free(r);
}

static void poll_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  (void)source, (void)cancel;
  PollRequest *rq = data;
  PollResult *r = g_new0(PollResult, 1);
  TsStore *st = NULL;
  TsError err;
  if (ts_store_open(rq->store, TS_STORE_READ, &st, &err) == TS_OK) {
    TsRunInfo *runs = NULL;
    size_t n = 0;
    if (ts_store_list_runs(st, &runs, &n, &err) == TS_OK) {
      for (size_t i = 0; i < n; i++) {
        if (!r->found && runs[i].pid == rq->pid && !strcmp(runs[i].kind, "generate") &&
            runs[i].started >= (double)rq->since - 2) {
          r->found = TRUE;
          r->done = runs[i].progress_done;
          r->total = runs[i].progress_total;
        }
        ts_run_info_clear(&runs[i]);
      }
      free(runs);
    }
    ts_store_close(st);
  }
  g_task_return_pointer(task, r, g_free);
}

static void poll_done(GObject *source, GAsyncResult *res, gpointer user_data) {
  (void)user_data;
  TsGeneratePanel *self = TS_GENERATE_PANEL(source);
  self->poll_in_flight = FALSE;
  PollResult *r = g_task_propagate_pointer(G_TASK(res), NULL);
  if (r && r->found && r->total > 0 && self->job) {
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress_bar), (double)r->done / (double)r->total);
    char *t = g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " images", r->done, r->total);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(self->progress_bar), t);
    g_free(t);
  } else if (self->job) {
    gtk_progress_bar_pulse(GTK_PROGRESS_BAR(self->progress_bar));
  }
  g_free(r);
}

static gboolean poll_tick(gpointer data) {
  TsGeneratePanel *self = data;
  if (!self->job) {
    self->poll_source = 0;
    return G_SOURCE_REMOVE;
  }
  if (self->poll_in_flight) return G_SOURCE_CONTINUE;
  PollRequest *rq = g_new0(PollRequest, 1);
  rq->store = store_path(self);
  rq->pid = atoll(g_subprocess_get_identifier(self->job) ? g_subprocess_get_identifier(self->job) : "0");
  rq->since = self->job_started_us / G_USEC_PER_SEC;
  if (!rq->store) {
    poll_request_free(rq);
    return G_SOURCE_CONTINUE;
  }
  self->poll_in_flight = TRUE;
  GTask *task = g_task_new(self, NULL, poll_done, NULL);
  g_task_set_task_data(task, rq, poll_request_free);
  g_task_run_in_thread(task, poll_worker);
  g_object_unref(task);
  return G_SOURCE_CONTINUE;
}

static void set_job_ui(TsGeneratePanel *self, gboolean running) {
  gtk_widget_set_visible(self->progress_box, running);
  gtk_widget_set_sensitive(self->create_button, !running);
  if (running) {
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress_bar), 0);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(self->progress_bar), "starting…");
  }
}

static void job_done(GObject *source, GAsyncResult *res, gpointer user_data) {
  TsGeneratePanel *self = user_data; /* a reference taken when the job started */
  GSubprocess *proc = G_SUBPROCESS(source);
  char *out = NULL, *err_text = NULL;
  GError *error = NULL;
  g_subprocess_communicate_utf8_finish(proc, res, &out, &err_text, &error);
  char *msg;
  if (error) {
    msg = g_strdup_printf("Dataset failed: %s", error->message);
  } else if (g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0) {
    msg = g_strdup_printf("Dataset written to %s", self->folder);
  } else if (g_subprocess_get_if_signaled(proc) || (g_subprocess_get_if_exited(proc) &&
                                                     g_subprocess_get_exit_status(proc) == 130)) {
    msg = g_strdup("Dataset stopped; resume it with toposcope generate");
  } else {
    /* the command's own one-line message names the problem */
    char *last = err_text ? g_strstrip(err_text) : NULL;
    char *nl = last ? strrchr(last, '\n') : NULL;
    msg = g_strdup_printf("Dataset failed: %s", nl ? nl + 1 : (last && *last ? last : "unknown error"));
  }
  gtk_label_set_text(GTK_LABEL(self->job_label), msg);
  message(self, msg);
  g_free(msg);
  g_free(out);
  g_free(err_text);
  g_clear_error(&error);
  g_clear_object(&self->job);
  g_clear_object(&self->job_cancel);
  set_job_ui(self, FALSE);
  g_object_unref(self);
}

/* The argv of `toposcope generate` for the current controls. */
static GPtrArray *generate_argv(TsGeneratePanel *self, const char *exe) {
  TsGenerateParams p;
  ts_generate_panel_get_params(self, &p);
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  char b0[G_ASCII_DTOSTR_BUF_SIZE];
#define ARG(s) g_ptr_array_add(a, g_strdup(s))
#define NUM(v) g_ptr_array_add(a, g_strdup(g_ascii_dtostr(b0, sizeof b0, (v))))
#define INT(v) g_ptr_array_add(a, g_strdup_printf("%lld", (long long)(v)))
  ARG(exe), ARG("generate");
  ARG("--output"), ARG(self->folder);
  ARG("--count"), INT(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->count_spin)));
  ARG("--val"), INT(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->val_spin)));
  ARG("--size"), INT(p.size);
  ARG("--alpha-range"), NUM(p.alpha_min), NUM(p.alpha_max);
  ARG("--beta-range"), NUM(p.beta_min), NUM(p.beta_max);
  ARG("--prob-binary"), NUM(p.prob_binary);
  ARG("--prob-colour"), NUM(p.prob_colour);
  ARG("--spectrum"), ARG(ts_spectrum_name(p.spectrum));
  ARG("--seed"), INT(p.seed);
  char *store = store_path(self);
  if (store) ARG("--store"), ARG(store);
  g_free(store);
#undef ARG
#undef NUM
#undef INT
  g_ptr_array_add(a, NULL);
  return a;
}

static void start_job(TsGeneratePanel *self) {
  GError *error = NULL;
  char *exe = self->program ? g_strdup(self->program) : g_file_read_link("/proc/self/exe", &error);
  if (!exe) {
    message(self, error->message);
    g_error_free(error);
    return;
  }
  GPtrArray *argv = generate_argv(self, exe);
  g_free(exe);
  GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv(l, "TOPOSCOPE_NO_PROGRESS", "1", TRUE);
  self->job = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
  g_object_unref(l);
  g_ptr_array_unref(argv);
  if (!self->job) {
    char *msg = g_strdup_printf("Cannot start toposcope generate: %s", error->message);
    message(self, msg);
    g_free(msg);
    g_error_free(error);
    return;
  }
  self->job_started_us = g_get_real_time();
  self->job_cancel = g_cancellable_new();
  set_job_ui(self, TRUE);
  gtk_label_set_text(GTK_LABEL(self->job_label), "");
  g_subprocess_communicate_utf8_async(self->job, NULL, self->job_cancel, job_done, g_object_ref(self));
  if (!self->poll_source) self->poll_source = g_timeout_add(250, poll_tick, self);
}

static void on_folder_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsGeneratePanel *self = user_data;
  gboolean then_start = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d), "then-start"));
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    if (path) ts_generate_panel_set_folder(self, path);
    g_free(path);
    if (f) g_object_unref(f);
    if (then_start && self->folder) start_job(self);
  }
  g_object_unref(d);
  g_object_unref(self);
}

static void choose_folder(TsGeneratePanel *self, gboolean then_start) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *d = gtk_file_chooser_native_new(
      "Dataset Folder", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
      then_start ? "_Create" : "_Select", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  g_object_set_data(G_OBJECT(d), "then-start", GINT_TO_POINTER(then_start));
  g_signal_connect(d, "response", G_CALLBACK(on_folder_response), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_choose_folder(TsGeneratePanel *self) { choose_folder(self, FALSE); }
static void on_cancel_job(TsGeneratePanel *self) { ts_generate_panel_cancel_job(self); }

void ts_generate_panel_create_dataset(TsGeneratePanel *self) {
  if (self->job) return;
  if (!self->folder) choose_folder(self, TRUE);
  else start_job(self);
}

gboolean ts_generate_panel_job_running(TsGeneratePanel *self) { return self->job != NULL; }

void ts_generate_panel_cancel_job(TsGeneratePanel *self) {
  /* SIGINT: the command finishes the image in hand, records the run as
   * stopped and exits; the job's completion callback updates the UI. */
  if (self->job) g_subprocess_send_signal(self->job, SIGINT);
}

/* --- object -------------------------------------------------------------- */

static void ts_generate_panel_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps) {
  TsGeneratePanel *self = TS_GENERATE_PANEL(o);
  if (id == PROP_BUSY) g_value_set_boolean(v, self->in_flight > 0);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void ts_generate_panel_dispose(GObject *o) {
  TsGeneratePanel *self = TS_GENERATE_PANEL(o);
  if (self->preview_cancel) g_cancellable_cancel(self->preview_cancel);
  g_clear_object(&self->preview_cancel);
  if (self->poll_source) g_source_remove(self->poll_source), self->poll_source = 0;
  gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_GENERATE_PANEL);
  G_OBJECT_CLASS(ts_generate_panel_parent_class)->dispose(o);
}

static void ts_generate_panel_finalize(GObject *o) {
  TsGeneratePanel *self = TS_GENERATE_PANEL(o);
  for (int i = 0; i < TS_GENERATE_PANEL_TILES; i++) ts_image_clear(&self->images[i]);
  g_free(self->store_path);
  g_free(self->folder);
  g_free(self->program);
  G_OBJECT_CLASS(ts_generate_panel_parent_class)->finalize(o);
}

static void ts_generate_panel_class_init(TsGeneratePanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = ts_generate_panel_get_property;
  oc->dispose = ts_generate_panel_dispose;
  oc->finalize = ts_generate_panel_finalize;
  props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIG_TILE_ACTIVATED] = g_signal_new("tile-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                             NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/generate-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, TsGeneratePanel, name)
  CHILD(size_spin);
  CHILD(spectrum_row);
  CHILD(alpha_min_spin);
  CHILD(alpha_max_spin);
  CHILD(beta_min_spin);
  CHILD(beta_max_spin);
  CHILD(binary_scale);
  CHILD(colour_scale);
  CHILD(seed_spin);
  CHILD(count_spin);
  CHILD(val_spin);
  CHILD(folder_row);
  CHILD(create_button);
  CHILD(progress_box);
  CHILD(progress_bar);
  CHILD(cancel_button);
  CHILD(job_label);
  CHILD(status_label);
  CHILD(spinner);
  CHILD(tile_grid);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_param_changed);
  gtk_widget_class_bind_template_callback(wc, on_choose_folder);
  gtk_widget_class_bind_template_callback(wc, on_cancel_job);
}

static void ts_generate_panel_init(TsGeneratePanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  for (int i = 0; i < TS_GENERATE_PANEL_TILES; i++) {
    GtkWidget *pic = gtk_picture_new();
    gtk_picture_set_can_shrink(GTK_PICTURE(pic), TRUE);
    gtk_picture_set_content_fit(GTK_PICTURE(pic), GTK_CONTENT_FIT_CONTAIN);
    gtk_widget_set_size_request(pic, 96, 96);
    GtkWidget *b = gtk_button_new();
    gtk_button_set_child(GTK_BUTTON(b), pic);
    gtk_widget_add_css_class(b, "preview-tile");
    gtk_widget_add_css_class(b, "flat");
    gtk_widget_set_hexpand(b, TRUE);
    gtk_widget_set_vexpand(b, TRUE);
    char *tip = g_strdup_printf("Training image %d — click to compute its homology", i);
    gtk_widget_set_tooltip_text(b, tip);
    g_free(tip);
    g_object_set_data(G_OBJECT(b), "tile-index", GUINT_TO_POINTER((guint)i));
    g_signal_connect(b, "clicked", G_CALLBACK(on_tile_clicked), self);
    gtk_grid_attach(GTK_GRID(self->tile_grid), b, i % 4, i / 4, 1, 1);
    self->tiles[i] = b;
    self->pictures[i] = pic;
  }
  regenerate(self);
}

void ts_generate_panel_set_seed(TsGeneratePanel *self, guint64 seed) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->seed_spin), (double)(seed & 0xffffffffu));
}

void ts_generate_panel_set_size(TsGeneratePanel *self, int size) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->size_spin), size);
}

void ts_generate_panel_shuffle(TsGeneratePanel *self) {
  ts_generate_panel_set_seed(self, g_random_int());
}

gboolean ts_generate_panel_is_busy(TsGeneratePanel *self) { return self->in_flight > 0; }
guint ts_generate_panel_get_generation(TsGeneratePanel *self) { return self->generation; }

const TsImage *ts_generate_panel_get_tile(TsGeneratePanel *self, guint i) {
  if (i >= TS_GENERATE_PANEL_TILES || !self->images[i].pixels) return NULL;
  return &self->images[i];
}

void ts_generate_panel_set_store(TsGeneratePanel *self, const char *path) {
  g_free(self->store_path);
  self->store_path = g_strdup(path);
}

void ts_generate_panel_set_folder(TsGeneratePanel *self, const char *path) {
  g_free(self->folder);
  self->folder = g_strdup(path);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->folder_row), path ? path : "not chosen");
}

void ts_generate_panel_set_counts(TsGeneratePanel *self, int train, int val) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->count_spin), train);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->val_spin), val);
}

void ts_generate_panel_set_program(TsGeneratePanel *self, const char *path) {
  g_free(self->program);
  self->program = g_strdup(path);
}
