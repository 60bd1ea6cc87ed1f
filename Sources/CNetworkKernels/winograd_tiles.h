#pragma once
// The tile walks both Winograd tile sizes share (winograd.c: F(2×2, 3×3), m = 2; winograd_f4.c:
// F(4×4, 3×3), m = 4): which image and place tile t is, the (m + 2)² input pixels or m² outputs it
// covers (zeros or a scratch row past the edge), and the plane stride. Each file supplies only its
// transforms, as one function over all channels of a tile.
#include "cnetworkkernels.h"

#include <string.h>

typedef void (*winograd_input_tile)(const float *const *d, float *out, size_t stride, int channels);
typedef void (*winograd_output_tile)(const float *in, size_t stride, float *const *o, const float *bias,
                                     const float *const *ad, int activation, int channels);
typedef void (*winograd_gradient_tile)(const float *const *g, float *out, size_t stride, int channels);

enum { WINOGRAD_MAX_INPUTS = 36, WINOGRAD_MAX_OUTPUTS = 16 };

// V (planes × T × C) from x: the input tile of each output tile, `pad` zeros around each image.
static inline void winograd_input_tiles(const float *x, size_t first, size_t count, int height, int width, int channels,
                                        int pad, int m, winograd_input_tile transform, float *v, size_t tile_begin,
                                        size_t tile_end) {
    const int side = m + 2;
    int out_height = height + 2 * pad - 2, out_width = width + 2 * pad - 2;
    int tiles_y = (out_height + m - 1) / m, tiles_x = (out_width + m - 1) / m;
    const size_t per_image = (size_t)tiles_y * tiles_x;
    const size_t stride = count * per_image * (size_t)channels;
    float zeros[channels];
    memset(zeros, 0, sizeof(float) * (size_t)channels);
    for (size_t t = tile_begin; t < tile_end; t++) {
        size_t n = first + t / per_image;
        int ty = (int)((t % per_image) / tiles_x), tx = (int)(t % tiles_x);
        int y0 = m * ty - pad, x0 = m * tx - pad;
        const float *image = x + n * (size_t)height * width * channels;
        const float *d[WINOGRAD_MAX_INPUTS];
        for (int r = 0; r < side; r++)
            for (int s = 0; s < side; s++) {
                int iy = y0 + r, ix = x0 + s;
                d[r * side + s] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                    ? image + ((size_t)iy * width + ix) * channels : zeros;
            }
        transform(d, v + t * (size_t)channels, stride, channels);
    }
}

// y from M (planes × T × C), then the epilogue; outputs of tiles hanging over the edge go nowhere.
static inline void winograd_output_tiles(const float *m_planes, size_t first, size_t count, int out_height, int out_width,
                                         int channels, percept_conv_epilogue epilogue, int m,
                                         winograd_output_tile transform, float *y, size_t tile_begin, size_t tile_end) {
    int tiles_y = (out_height + m - 1) / m, tiles_x = (out_width + m - 1) / m;
    const size_t per_image = (size_t)tiles_y * tiles_x;
    const size_t stride = count * per_image * (size_t)channels;
    float trash[channels];
    for (size_t t = tile_begin; t < tile_end; t++) {
        size_t n = first + t / per_image;
        int ty = (int)((t % per_image) / tiles_x), tx = (int)(t % tiles_x);
        size_t image = n * (size_t)out_height * out_width * channels;
        float *o[WINOGRAD_MAX_OUTPUTS];
        const float *ad[WINOGRAD_MAX_OUTPUTS];
        for (int r = 0; r < m; r++)
            for (int s = 0; s < m; s++) {
                int oy = m * ty + r, ox = m * tx + s, inside = oy < out_height && ox < out_width;
                size_t at = image + ((size_t)oy * out_width + ox) * channels;
                o[r * m + s] = inside ? y + at : trash;
                ad[r * m + s] = inside && epilogue.addend ? epilogue.addend + at : NULL;
            }
        transform(m_planes + t * (size_t)channels, stride, o, epilogue.bias, ad, epilogue.activation, channels);
    }
}

// Ĝ (planes × T × C) from ∂y: each output tile's gradients, zero past the edge.
static inline void winograd_gradient_tiles(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                           int channels, int m, winograd_gradient_tile transform, float *g,
                                           size_t tile_begin, size_t tile_end) {
    int tiles_y = (out_height + m - 1) / m, tiles_x = (out_width + m - 1) / m;
    const size_t per_image = (size_t)tiles_y * tiles_x;
    const size_t stride = count * per_image * (size_t)channels;
    float zeros[channels];
    memset(zeros, 0, sizeof(float) * (size_t)channels);
    for (size_t t = tile_begin; t < tile_end; t++) {
        size_t n = first + t / per_image;
        int ty = (int)((t % per_image) / tiles_x), tx = (int)(t % tiles_x);
        const float *image = dy + n * (size_t)out_height * out_width * channels;
        const float *src[WINOGRAD_MAX_OUTPUTS];
        for (int r = 0; r < m; r++)
            for (int s = 0; s < m; s++) {
                int oy = m * ty + r, ox = m * tx + s;
                src[r * m + s] = (oy < out_height && ox < out_width) ? image + ((size_t)oy * out_width + ox) * channels : zeros;
            }
        transform(src, g + t * (size_t)channels, stride, channels);
    }
}
