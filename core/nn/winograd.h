/* winograd.h — internal to conv.c: 3x3 stride-1 pad-1 convolution by
 * Winograd's F(2x2, 3x3) (see winograd.c). Not a public header. */
#ifndef TS_NN_WINOGRAD_H
#define TS_NN_WINOGRAD_H

#include <stddef.h>

/* 2x2 output tiles of an h x w plane */
int ts_wino_tiles(int h, int w);

/* widest plane the transforms take (their row buffers are on the stack) */
#define TS_WINO_MAX_W 512

/* Transformed kernels u [16, rows, cols] for rows [b, e) from w [k, c, 3, 3]:
 * flip 0, the forward (rows = k outputs, cols = c inputs); flip 1, the input
 * gradient (rows = c, cols = k, each kernel rotated by 180 degrees). */
void ts_wino_weights(const float *w, int k, int c, int flip, size_t b, size_t e, float *u);

/* y[n] (=, or += when accumulate) conv(x[n]) for cnt images: x [cin, h, w]
 * image_stride x_stride apart, y [cout, h, w] y_stride apart; u from
 * ts_wino_weights. v holds 16 cin T and m 16 cout T floats, T = cnt
 * ts_wino_tiles(h, w). */
void ts_wino_conv(const float *u, int cin, int cout, int h, int w, int cnt, const float *x, size_t x_stride, float *y,
                  size_t y_stride, int accumulate, float *v, float *m);

#endif
