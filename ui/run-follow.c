/* run-follow.c — following the run store live from a panel (see run-follow.h). */
#include "run-follow.h"

/* --- subscription ------------------------------------------------------------------ */

void ts_store_subscription_set(TsStoreSubscription *sub, TsStoreReader *reader, GCallback runs_changed,
                               GCallback store_changed, gpointer data) {
  if (sub->reader) {
    g_signal_handler_disconnect(sub->reader, sub->runs_handler);
    g_signal_handler_disconnect(sub->reader, sub->store_handler);
    sub->runs_handler = sub->store_handler = 0;
    g_clear_object(&sub->reader);
  }
  if (reader) {
    sub->reader = g_object_ref(reader);
    sub->runs_handler = g_signal_connect(reader, "runs-changed", runs_changed, data);
    sub->store_handler = g_signal_connect(reader, "store-changed", store_changed, data);
  }
}

/* --- tickets -------------------------------------------------------------------------- */

struct TsTicket {
  GWeakRef owner;
  guint token;
};

TsTicket *ts_ticket_new(gpointer owner, guint token) {
  TsTicket *t = g_new0(TsTicket, 1);
  g_weak_ref_init(&t->owner, owner);
  t->token = token;
  return t;
}

gpointer ts_ticket_redeem(TsTicket *ticket, guint *token) {
  gpointer owner = g_weak_ref_get(&ticket->owner);
  *token = ticket->token;
  g_weak_ref_clear(&ticket->owner);
  g_free(ticket);
  return owner;
}

/* --- the follower ----------------------------------------------------------------------- */

struct _TsRunFollower {
  GObject parent;
  TsStoreQueryFunc query;
  GDestroyNotify result_free;
  TsRunPredicate listed, preferred;
  TsStoreSubscription sub;
  AdwComboRow *row; /* the picker (a reference), or NULL */
  gulong row_handler;
  AdwStatusPage *status; /* the page shown without a result (a reference), or NULL */
  char *reading, *no_runs;
  GtkStringList *model; /* the picker's items, spliced in place */
  GArray *run_ids;      /* gint64: the listed runs, in the model's order */
  gint64 run;
  gpointer result;
  char *error;
  GCancellable *cancel;
  gboolean in_flight, again, syncing;
  guint token;       /* bumped by every run or store switch: older answers are dropped */
  char *loaded_path; /* the store the result was read from */
  guint generation;
};

G_DEFINE_FINAL_TYPE(TsRunFollower, ts_run_follower, G_TYPE_OBJECT)

enum { SIG_RUN_CHANGED, SIG_LOADED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void clear_result(TsRunFollower *self) {
  if (self->result) self->result_free(self->result);
  self->result = NULL;
  g_clear_pointer(&self->error, g_free);
}

static void say(TsRunFollower *self, const char *why) {
  if (self->status) adw_status_page_set_description(self->status, why);
}

static void run_changed(TsRunFollower *self) {
  say(self, self->reading);
  g_signal_emit(self, signals[SIG_RUN_CHANGED], 0);
}

static void load(TsRunFollower *self);

static void loaded(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  guint token;
  TsRunFollower *self = ts_ticket_redeem(user_data, &token);
  if (!self || token != self->token) {
    /* the follower is gone, or moved on to another run or store: the task
     * frees the answer nobody reads */
    if (self) g_object_unref(self);
    return;
  }
  GError *error = NULL;
  gpointer result = ts_store_reader_query_finish(res, &error);
  self->in_flight = FALSE;
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    /* the reader dropped the query while the run is still wanted: ask again */
    g_error_free(error);
    load(self);
    g_object_unref(self);
    return;
  }
  gboolean first = !self->result;
  clear_result(self);
  self->result = result;
  if (!result) {
    self->error = g_strdup(error ? error->message : "");
    say(self, self->error);
  }
  g_clear_error(&error);
  self->generation++;
  g_signal_emit(self, signals[SIG_LOADED], 0, first);
  if (self->again) {
    self->again = FALSE;
    load(self);
  }
  g_object_unref(self);
}

static void load(TsRunFollower *self) {
  if (!self->sub.reader || self->run < 0) return;
  if (self->in_flight) {
    self->again = TRUE;
    return;
  }
  self->in_flight = TRUE;
  gint64 *id = g_new(gint64, 1);
  *id = self->run;
  g_free(self->loaded_path);
  self->loaded_path = g_strdup(ts_store_reader_get_path(self->sub.reader));
  ts_store_reader_query(self->sub.reader, self->query, id, g_free, self->result_free,
                        ts_run_follower_get_cancellable(self), loaded, ts_ticket_new(self, self->token));
}

static void on_runs_changed(TsStoreReader *reader, TsRunFollower *self) {
  guint n;
  const TsRunSummary *runs = ts_store_reader_get_runs(reader, &n);
  /* one model, spliced: replacing a combo row's model while it is shown
   * is not needed and upset AdwComboRow */
  GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
  g_array_set_size(self->run_ids, 0);
  guint keep = G_MAXUINT, prefer = G_MAXUINT;
  for (guint i = 0; i < n; i++) {
    const TsRunSummary *r = &runs[i];
    if (!self->listed(r)) continue;
    g_ptr_array_add(items, g_strdup_printf("%lld · %s%s", (long long)r->info.id, r->info.name,
                                           r->info.status == TS_RUN_RUNNING ? " (running)" : ""));
    if (r->info.id == self->run) keep = self->run_ids->len;
    if (prefer == G_MAXUINT && self->preferred && self->preferred(r)) prefer = self->run_ids->len;
    g_array_append_val(self->run_ids, r->info.id);
  }
  self->syncing = TRUE;
  g_ptr_array_add(items, NULL);
  gtk_string_list_splice(self->model, 0, g_list_model_get_n_items(G_LIST_MODEL(self->model)),
                         (const char *const *)items->pdata);
  g_ptr_array_unref(items);
  guint sel = keep != G_MAXUINT ? keep : prefer != G_MAXUINT ? prefer : 0;
  if (self->run_ids->len && self->row) adw_combo_row_set_selected(self->row, sel);
  self->syncing = FALSE;
  gint64 id = self->run_ids->len ? g_array_index(self->run_ids, gint64, sel) : -1;
  const TsRunSummary *r = id >= 0 ? ts_store_reader_find_run(reader, id) : NULL;
  if (id == self->run && g_strcmp0(ts_store_reader_get_path(reader), self->loaded_path) != 0)
    self->run = -1; /* the same id in another store */
  if (id != self->run) ts_run_follower_show_run(self, id);
  else if (r && r->info.status == TS_RUN_RUNNING) load(self); /* its newest rows may have landed */
  if (!self->run_ids->len) say(self, self->no_runs);
}

static void on_store_changed(TsStoreReader *reader, TsRunFollower *self) {
  self->run = -1;
  self->token++;
  self->in_flight = self->again = FALSE;
  clear_result(self);
  run_changed(self);
  /* the new store's runs may already be in the snapshot (the two signals
   * come in either order): pick from it now */
  on_runs_changed(reader, self);
}

static void on_row_selected(TsRunFollower *self) {
  if (self->syncing) return;
  guint i = adw_combo_row_get_selected(self->row);
  if (i < self->run_ids->len) ts_run_follower_show_run(self, g_array_index(self->run_ids, gint64, i));
}

/* --- object ------------------------------------------------------------------------------ */

static void ts_run_follower_dispose(GObject *o) {
  TsRunFollower *self = TS_RUN_FOLLOWER(o);
  ts_run_follower_set_reader(self, NULL);
  if (self->row) {
    /* a row disposed before us has no handlers left */
    if (g_signal_handler_is_connected(self->row, self->row_handler))
      g_signal_handler_disconnect(self->row, self->row_handler);
    g_clear_object(&self->row);
  }
  g_clear_object(&self->status);
  clear_result(self);
  G_OBJECT_CLASS(ts_run_follower_parent_class)->dispose(o);
}

static void ts_run_follower_finalize(GObject *o) {
  TsRunFollower *self = TS_RUN_FOLLOWER(o);
  g_array_unref(self->run_ids);
  g_object_unref(self->model);
  g_free(self->loaded_path);
  g_free(self->reading);
  g_free(self->no_runs);
  G_OBJECT_CLASS(ts_run_follower_parent_class)->finalize(o);
}

static void ts_run_follower_class_init(TsRunFollowerClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->dispose = ts_run_follower_dispose;
  oc->finalize = ts_run_follower_finalize;
  signals[SIG_RUN_CHANGED] = g_signal_new("run-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
  signals[SIG_LOADED] = g_signal_new("loaded", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                     G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void ts_run_follower_init(TsRunFollower *self) {
  self->run = -1;
  self->run_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  self->model = gtk_string_list_new(NULL);
}

TsRunFollower *ts_run_follower_new(TsStoreQueryFunc query, GDestroyNotify result_free, TsRunPredicate listed,
                                   TsRunPredicate preferred) {
  g_return_val_if_fail(query && result_free && listed, NULL);
  TsRunFollower *self = g_object_new(TS_TYPE_RUN_FOLLOWER, NULL);
  self->query = query;
  self->result_free = result_free;
  self->listed = listed;
  self->preferred = preferred;
  return self;
}

void ts_run_follower_set_reader(TsRunFollower *self, TsStoreReader *reader) {
  if (!reader) {
    /* nothing is followed without a reader: an answer in flight is stale */
    if (self->cancel) g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    self->token++;
    self->in_flight = self->again = FALSE;
  }
  ts_store_subscription_set(&self->sub, reader, G_CALLBACK(on_runs_changed), G_CALLBACK(on_store_changed), self);
  if (reader) on_runs_changed(reader, self);
}

TsStoreReader *ts_run_follower_get_reader(TsRunFollower *self) { return self->sub.reader; }

void ts_run_follower_attach(TsRunFollower *self, AdwComboRow *row) {
  g_return_if_fail(!self->row);
  self->row = g_object_ref(row);
  adw_combo_row_set_model(row, G_LIST_MODEL(self->model));
  self->row_handler = g_signal_connect_swapped(row, "notify::selected", G_CALLBACK(on_row_selected), self);
}

void ts_run_follower_attach_status(TsRunFollower *self, AdwStatusPage *page, const char *reading,
                                   const char *no_runs) {
  g_return_if_fail(!self->status);
  self->status = g_object_ref(page);
  self->reading = g_strdup(reading);
  self->no_runs = g_strdup(no_runs);
}

void ts_run_follower_show_run(TsRunFollower *self, gint64 id) {
  if (id == self->run) return;
  self->run = id;
  clear_result(self);
  /* a stale answer for the previous run must not land */
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->token++;
  self->in_flight = self->again = FALSE;
  for (guint i = 0; self->row && i < self->run_ids->len; i++)
    if (g_array_index(self->run_ids, gint64, i) == id && adw_combo_row_get_selected(self->row) != i) {
      self->syncing = TRUE;
      adw_combo_row_set_selected(self->row, i);
      self->syncing = FALSE;
    }
  run_changed(self);
  load(self);
}

gint64 ts_run_follower_get_run(TsRunFollower *self) { return self->run; }
void ts_run_follower_reload(TsRunFollower *self) { load(self); }
gpointer ts_run_follower_get_result(TsRunFollower *self) { return self->result; }
const char *ts_run_follower_get_error(TsRunFollower *self) { return self->error; }

GCancellable *ts_run_follower_get_cancellable(TsRunFollower *self) {
  /* one cancelled while the run is still wanted would cancel its re-ask too */
  if (self->cancel && g_cancellable_is_cancelled(self->cancel)) g_clear_object(&self->cancel);
  if (!self->cancel) self->cancel = g_cancellable_new();
  return self->cancel;
}

guint ts_run_follower_get_n_runs(TsRunFollower *self) { return self->run_ids->len; }
guint ts_run_follower_get_generation(TsRunFollower *self) { return self->generation; }
gboolean ts_run_follower_is_busy(TsRunFollower *self) { return self->in_flight; }
