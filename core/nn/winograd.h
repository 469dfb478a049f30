/* winograd.h — internal to conv.c: 3x3 stride-1 pad-1 convolution by
 * Winograd's F(2x2, 3x3) (see winograd.c). Not a public header. */
#ifndef TS_NN_WINOGRAD_H
#define TS_NN_WINOGRAD_H

#include <stddef.h>

/* 2x2 output tiles of an h x w plane */
int ts_wino_tiles(int h, int w);

/* widest plane the transforms take (their row buffers are on the stack) */
#define TS_WINO_MAX_W 512

/* Transformed kernels u [16, k, c] for the output channels [b, e) from
 * w [k, c, 3, 3] (U = G g G^T). */
void ts_wino_weights(const float *w, int k, int c, size_t b, size_t e, float *u);

/* y[n] (=, or += when accumulate) conv(x[n]) for cnt images: x [cin, h, w]
 * (images x_stride floats apart), y [cout, h, w] (y_stride apart); u from
 * ts_wino_weights: of the forward kernel w [cout, cin, 3, 3] (input_grad 0),
 * or, for the input gradient (x = dy, y = dx), of the forward kernel
 * w [cin, cout, 3, 3] (input_grad 1). v holds 16 cin T and m 16 cout T
 * floats, T = cnt ts_wino_tiles(h, w). */
void ts_wino_conv(const float *u, int input_grad, int cin, int cout, int h, int w, int cnt, const float *x,
                  size_t x_stride, float *y, size_t y_stride, int accumulate, float *v, float *m);

/* The weight gradient in the transformed domain: du [16, k, c] = beta du +
 * the sum over the tiles of cnt images of (A dy A^T) (B^T x B); x [c, h, w]
 * and dy [k, h, w] per image, x_stride and dy_stride apart. v holds 16 c T
 * and yg 16 k T floats. */
void ts_wino_weight_grad(const float *x, size_t x_stride, const float *dy, size_t dy_stride, int c, int k, int h, int w,
                         int cnt, float beta, float *du, float *v, float *yg);

/* dw [k, c, 3, 3] += G^T (sum of the nparts du, part_stride apart) G for
 * the (output, input) channel pairs [b, e) (index o c + ci); the partials
 * are added in order. */
void ts_wino_weight_grad_finish(const float *parts, size_t part_stride, int nparts, int k, int c, size_t b, size_t e,
                                float *dw);

#endif
