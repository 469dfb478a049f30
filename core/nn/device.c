/* device.c — the parts of nn/device.h that every build has: parsing a
 * device name and, in a build without the CUDA backend, the calls that say
 * so. (With the backend they live in nn/cuda/.) */
#include "nn/device.h"

#include <stdlib.h>
#include <string.h>

#include "ts-config.h"

TsStatus ts_device_parse(const char *spec, int *ordinal, TsError *err) {
  if (spec && strcmp(spec, "cpu") == 0) {
    *ordinal = -1;
    return TS_OK;
  }
  if (spec && strcmp(spec, "cuda") == 0) {
    *ordinal = 0;
    return TS_OK;
  }
  if (spec && strncmp(spec, "cuda:", 5) == 0 && spec[5] >= '0' && spec[5] <= '9') {
    char *end;
    long k = strtol(spec + 5, &end, 10);
    if (*end == '\0' && k >= 0 && k < 64) {
      *ordinal = (int)k;
      return TS_OK;
    }
  }
  return ts_error_set(err, TS_ERR_INVALID, "device '%s': expected cpu, cuda or cuda:K", spec ? spec : "");
}

int ts_device_cuda_built(void) { return TS_HAVE_CUDA; }

#if !TS_HAVE_CUDA
TsStatus ts_device_probe(int ordinal, TsError *err) {
  return ts_error_set(
      err, TS_ERR_UNSUPPORTED,
      "device cuda:%d: this toposcope was built without the CUDA backend (configure with -Dcuda=enabled)", ordinal);
}

/* Without the backend no TsDevice can exist, so no model or optimiser is
 * ever on one: the model calls are the CPU's no-ops. */
TsDevice *ts_device_open(int ordinal, int tf32, int deterministic, TsError *err) {
  (void)tf32, (void)deterministic;
  ts_device_probe(ordinal, err);
  return NULL;
}
void ts_device_free(TsDevice *d) { (void)d; }
const char *ts_device_describe(const TsDevice *d) {
  (void)d;
  return "cpu";
}
TsStatus ts_model_to_device(TsModel *m, TsDevice *d, TsError *err) {
  (void)m, (void)d;
  return ts_error_set(err, TS_ERR_UNSUPPORTED, "model: built without the CUDA backend");
}
TsDevice *ts_model_device(const TsModel *m) {
  (void)m;
  return NULL;
}
TsStatus ts_model_sync_host(TsModel *m, TsError *err) { return (void)m, (void)err, TS_OK; }
TsStatus ts_model_sync_device(TsModel *m, TsError *err) { return (void)m, (void)err, TS_OK; }
TsStatus ts_model_grads_to_host(TsModel *m, TsError *err) { return (void)m, (void)err, TS_OK; }
TsStatus ts_model_grads_to_device(TsModel *m, TsError *err) { return (void)m, (void)err, TS_OK; }
void ts_model_prefetch(TsModel *m, const float *x, int batch) { (void)m, (void)x, (void)batch; }
TsStatus ts_model_device_status(TsModel *m, TsError *err) { return (void)m, (void)err, TS_OK; }
TsStatus ts_optim_to_device(TsOptim *o, TsModel *m, TsError *err) {
  (void)o, (void)m;
  return ts_error_set(err, TS_ERR_UNSUPPORTED, "optimiser: built without the CUDA backend");
}
TsStatus ts_optim_sync_host(TsOptim *o, TsError *err) { return (void)o, (void)err, TS_OK; }
TsStatus ts_optim_sync_device(TsOptim *o, TsError *err) { return (void)o, (void)err, TS_OK; }
#endif
