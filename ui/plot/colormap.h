/* colormap.h — scalar fields to colours: grey, the perceptual viridis and
 * magma maps, and a diverging map for signed fields (blue < 0 < red). */
#ifndef TS_UI_COLORMAP_H
#define TS_UI_COLORMAP_H

#include <stdint.h>

typedef enum TsColormap { TS_CMAP_GREY = 0, TS_CMAP_VIRIDIS, TS_CMAP_MAGMA, TS_CMAP_DIVERGING } TsColormap;

const char *ts_colormap_name(TsColormap c);
/* t in [0, 1] (clamped; NaN gives mid-grey) to 8-bit RGB. */
void ts_colormap_rgb(TsColormap c, double t, uint8_t rgb[3]);

#endif
