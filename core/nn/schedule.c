/* schedule.c — learning-rate schedules (MultiStepLR, CosineAnnealingLR,
 * LinearLR warm-up chained as SequentialLR) in closed form. */
#include "nn/optim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

float ts_schedule_lr(const TsSchedule *s, int t) {
  if (t < 0) t = 0;
  if (s->warmup > 0) {
    if (t < s->warmup)
      return s->base_lr * (s->warmup_start + (1.0f - s->warmup_start) * (float)t / (float)s->warmup);
    t -= s->warmup;
  }
  switch (s->kind) {
  case TS_SCHEDULE_MULTISTEP: {
    double lr = s->base_lr;
    for (int i = 0; i < s->n_milestones; i++)
      if (s->milestones[i] <= t) lr *= s->gamma;
    return (float)lr;
  }
  case TS_SCHEDULE_COSINE: {
    if (s->total <= 0) return s->base_lr;
    int tt = t < s->total ? t : s->total;
    return (float)(s->min_lr + (s->base_lr - s->min_lr) * (1.0 + cos(M_PI * tt / s->total)) / 2.0);
  }
  case TS_SCHEDULE_CONSTANT:
  default:
    return s->base_lr;
  }
}

static int parse_int(const char **p, int *out) {
  char *end;
  errno = 0;
  long v = strtol(*p, &end, 10);
  if (end == *p || errno || v < 0 || v > 1000000000) return -1;
  *out = (int)v;
  *p = end;
  return 0;
}

static int parse_float(const char **p, float *out) {
  char *end;
  errno = 0;
  double v = strtod(*p, &end);
  if (end == *p || errno || !isfinite(v) || v < 0) return -1;
  *out = (float)v;
  *p = end;
  return 0;
}

TsStatus ts_schedule_parse(const char *text, TsSchedule *s, TsError *err) {
  float base = s->base_lr;
  memset(s, 0, sizeof *s);
  s->base_lr = base;
  s->gamma = 0.1f;
  s->warmup_start = 0.1f;
  const char *p = text ? text : "";
  if (strncmp(p, "constant", 8) == 0) {
    s->kind = TS_SCHEDULE_CONSTANT;
    p += 8;
  } else if (strncmp(p, "multistep:", 10) == 0) {
    s->kind = TS_SCHEDULE_MULTISTEP;
    p += 10;
    for (;;) {
      if (s->n_milestones == TS_SCHEDULE_MAX_MILESTONES) goto bad;
      int m;
      if (parse_int(&p, &m) < 0) goto bad;
      if (s->n_milestones && m <= s->milestones[s->n_milestones - 1]) goto bad;
      s->milestones[s->n_milestones++] = m;
      if (*p != ',') break;
      p++;
    }
    if (*p == ':') {
      p++;
      if (parse_float(&p, &s->gamma) < 0) goto bad;
    }
  } else if (strncmp(p, "cosine:", 7) == 0) {
    s->kind = TS_SCHEDULE_COSINE;
    p += 7;
    if (parse_int(&p, &s->total) < 0 || s->total < 1) goto bad;
    if (*p == ':') {
      p++;
      if (parse_float(&p, &s->min_lr) < 0) goto bad;
    }
  } else {
    goto bad;
  }
  if (strncmp(p, "+warmup:", 8) == 0) {
    p += 8;
    if (parse_int(&p, &s->warmup) < 0 || s->warmup < 1) goto bad;
    if (*p == ':') {
      p++;
      if (parse_float(&p, &s->warmup_start) < 0 || s->warmup_start > 1.0f) goto bad;
    }
  }
  if (*p) goto bad;
  return TS_OK;
bad:
  return ts_error_set(err, TS_ERR_INVALID,
                      "schedule '%s': expected constant, multistep:M1,M2[:GAMMA] or cosine:T[:MIN_LR], "
                      "optionally followed by +warmup:W[:START]",
                      text ? text : "");
}
