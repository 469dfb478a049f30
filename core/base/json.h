/* json.h — just enough JSON for run parameters and manifests.
 *
 * A writer that builds a compact JSON text with correct escaping and
 * non-finite numbers written as null, and a reader that looks up one member
 * of the top-level object of a JSON text (nested values are skipped
 * correctly). Parameters and manifests are flat objects, so this is all the
 * store and `--resume` need; anything richer belongs in a real parser. */
#ifndef TS_BASE_JSON_H
#define TS_BASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TS_JSON_MAX_DEPTH 32

typedef struct TsJson {
  char *buf;
  size_t len, cap;
  int depth;
  int first[TS_JSON_MAX_DEPTH]; /* no member written yet at this depth */
  int after_key;
  int failed; /* out of memory or misuse; ts_json_text returns NULL */
} TsJson;

void ts_json_init(TsJson *j);
void ts_json_clear(TsJson *j);
void ts_json_object_begin(TsJson *j);
void ts_json_object_end(TsJson *j);
void ts_json_array_begin(TsJson *j);
void ts_json_array_end(TsJson *j);
void ts_json_key(TsJson *j, const char *key);
void ts_json_string(TsJson *j, const char *s);
void ts_json_number(TsJson *j, double v); /* %.17g; NaN/inf as null */
void ts_json_int(TsJson *j, int64_t v);
void ts_json_bool(TsJson *j, int v);
void ts_json_null(TsJson *j);
/* Shorthands for an object member. */
void ts_json_kv_string(TsJson *j, const char *key, const char *s);
void ts_json_kv_number(TsJson *j, const char *key, double v);
void ts_json_kv_int(TsJson *j, const char *key, int64_t v);
void ts_json_kv_bool(TsJson *j, const char *key, int v);
/* The text so far (owned by j), or NULL after a failure. */
const char *ts_json_text(const TsJson *j);
/* Takes ownership of the text; j is reset. NULL after a failure. */
char *ts_json_steal(TsJson *j);

/* Reader: look up `key` among the members of the top-level object.
 * Return TS_OK and fill *out, TS_ERR_INVALID if missing (message names key),
 * TS_ERR_FORMAT if the text is not valid JSON or the member has another type. */
TsStatus ts_json_get_number(const char *json, const char *key, double *out, TsError *err);
TsStatus ts_json_get_int(const char *json, const char *key, int64_t *out, TsError *err);
/* Copies the unescaped string into out (NUL-terminated, truncated to n-1). */
TsStatus ts_json_get_string(const char *json, const char *key, char *out, size_t n, TsError *err);
/* Pointer to the raw member value inside json and its length (any type). */
TsStatus ts_json_get_raw(const char *json, const char *key, const char **val, size_t *len, TsError *err);
/* The index-th member of the top-level object: its key (raw, without the
 * quotes) and raw value; TS_ERR_INVALID past the last member. */
TsStatus ts_json_member_at(const char *json, size_t index, const char **key, size_t *key_len, const char **val,
                           size_t *len, TsError *err);
/* Pretty-prints compact JSON with 2-space indentation (malloc'd; NULL on OOM). */
char *ts_json_pretty(const char *json);

#endif
