/* run-follow.h — following the run store live from a panel: the reader's
 * two signals (TsStoreSubscription), answers that may come back too late
 * (TsTicket), and one run followed through its picker (TsRunFollower).
 *
 * Every read still goes through the shared TsStoreReader (its worker runs
 * the queries); this module only keeps the bookkeeping around those reads
 * in one place, so that panels showing "one run, live" all behave alike:
 *
 *   - an answer that arrives after its asker moved on (another run was
 *     picked, another store opened) or went away is dropped, never shown;
 *   - an answer the reader cancelled while the asker still wants it is
 *     asked again;
 *   - reloads coalesce: while one read is in flight, any number of reload
 *     requests make exactly one more read once it has answered, so a busy
 *     store never queues a read per commit;
 *   - the picker lists the runs a predicate accepts, newest first, keeps
 *     the followed run selected while it stays listed, and otherwise
 *     follows the preferred run (the first one a second predicate
 *     accepts, else the newest listed); a running run is re-read whenever
 *     the reader's snapshot changes, a finished one is read once;
 *   - a store switch forgets the run and picks again from the new store's
 *     snapshot (the reader's two signals come in either order).
 *
 * TsRunFollower signals (main loop):
 *   "run-changed" ()       another run (or none: get_run -1) is followed;
 *                          the old result is gone, the new run is being read
 *   "loaded" (gboolean first)  an answer for the followed run: get_result,
 *                          or NULL and get_error; first: no result was there
 *                          before it (a new run: show its newest epoch) */
#ifndef TS_UI_RUN_FOLLOW_H
#define TS_UI_RUN_FOLLOW_H

#include <adwaita.h>

#include "store-reader.h"

G_BEGIN_DECLS

/* --- a panel's subscription to the reader ------------------------------------ */

/* The reader a panel listens to and its two handlers, swapped together. */
typedef struct TsStoreSubscription {
  TsStoreReader *reader; /* a reference; NULL: none */
  gulong runs_handler, store_handler;
} TsStoreSubscription;

/* Disconnects from the old reader and drops it; with reader non-NULL, refs
 * it and connects runs_changed to "runs-changed" and store_changed to
 * "store-changed", with data as their last argument. */
void ts_store_subscription_set(TsStoreSubscription *sub, TsStoreReader *reader, GCallback runs_changed,
                               GCallback store_changed, gpointer data);

/* --- tickets ------------------------------------------------------------------- */

/* Travels with one query as its user data: a weak reference to the object
 * that asked and the token it had then (objects bump their token whenever
 * older answers stop being wanted). */
typedef struct TsTicket TsTicket;

TsTicket *ts_ticket_new(gpointer owner, guint token);
/* Frees the ticket. Returns the owner (a new reference) if it is still
 * alive, else NULL; *token gets the token it was issued with. Redeem before
 * ts_store_reader_query_finish: a stale answer left unfinished is freed by
 * its task with the query's result_free. */
gpointer ts_ticket_redeem(TsTicket *ticket, guint *token);

/* --- one run, followed ---------------------------------------------------------- */

#define TS_TYPE_RUN_FOLLOWER (ts_run_follower_get_type())
G_DECLARE_FINAL_TYPE(TsRunFollower, ts_run_follower, TS, RUN_FOLLOWER, GObject)

typedef gboolean (*TsRunPredicate)(const TsRunSummary *run);

/* query reads the followed run on the reader's worker (its data: a gint64 *,
 * the run id) and returns what the panel shows, freed with result_free.
 * listed picks the runs the picker offers; preferred (may be NULL) the one
 * to follow when the followed run is not listed. */
TsRunFollower *ts_run_follower_new(TsStoreQueryFunc query, GDestroyNotify result_free, TsRunPredicate listed,
                                   TsRunPredicate preferred);
/* Starts following reader's store (NULL: none; an answer in flight is then
 * dropped). */
void ts_run_follower_set_reader(TsRunFollower *self, TsStoreReader *reader);
TsStoreReader *ts_run_follower_get_reader(TsRunFollower *self);
/* The picker: row gets the listed runs ("id · name (running)") as its model
 * and shows the followed run; picking one there follows it. */
void ts_run_follower_attach(TsRunFollower *self, AdwComboRow *row);
/* The page the panel shows while it has no result: its description says
 * why — reading while the followed run is read, the error of a failed read,
 * or no_runs while the picker lists none. */
void ts_run_follower_attach_status(TsRunFollower *self, AdwStatusPage *page, const char *reading,
                                   const char *no_runs);

/* Follows run id (-1: none), as picking it does. */
void ts_run_follower_show_run(TsRunFollower *self, gint64 id);
gint64 ts_run_follower_get_run(TsRunFollower *self);
/* Reads the followed run again (coalesced with a read in flight). */
void ts_run_follower_reload(TsRunFollower *self);

/* The newest answer for the followed run (NULL: none yet, or it failed). */
gpointer ts_run_follower_get_result(TsRunFollower *self);
/* Why the last answer has no result (NULL: it has one, or none came yet). */
const char *ts_run_follower_get_error(TsRunFollower *self);
/* Cancelled when another run is followed: side queries about the run use
 * it. A read cancelled while its run is still followed is asked again. */
GCancellable *ts_run_follower_get_cancellable(TsRunFollower *self);
guint ts_run_follower_get_n_runs(TsRunFollower *self);
/* Answers delivered so far ("loaded" emissions). */
guint ts_run_follower_get_generation(TsRunFollower *self);
/* A read is in flight. */
gboolean ts_run_follower_is_busy(TsRunFollower *self);

G_END_DECLS

#endif
