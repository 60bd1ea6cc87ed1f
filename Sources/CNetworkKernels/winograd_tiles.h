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

// One tile walk for both gathers: tile t of a tiles_y × tiles_x grid per image reads the side × side
// window at (m·ty + offset, m·tx + offset) of an image of height × width, zeros past the edge, and
// `transform` writes its planes (stride: one plane) at dst + t·C.
static inline void winograd_gather_tiles(const float *src, size_t first, size_t count, int height, int width,
                                         int channels, int tiles_y, int tiles_x, int side, int m, int offset,
                                         winograd_input_tile transform, float *dst, size_t tile_begin,
                                         size_t tile_end) {
    const size_t per_image = (size_t)tiles_y * tiles_x;
    const size_t stride = count * per_image * (size_t)channels;
    float zeros[channels];
    memset(zeros, 0, sizeof(float) * (size_t)channels);
    for (size_t t = tile_begin; t < tile_end; t++) {
        size_t n = first + t / per_image;
        int ty = (int)((t % per_image) / tiles_x), tx = (int)(t % tiles_x);
        int y0 = m * ty + offset, x0 = m * tx + offset;
        const float *image = src + n * (size_t)height * width * channels;
        const float *d[WINOGRAD_MAX_INPUTS];
        for (int r = 0; r < side; r++)
            for (int s = 0; s < side; s++) {
                int iy = y0 + r, ix = x0 + s;
                d[r * side + s] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                    ? image + ((size_t)iy * width + ix) * channels : zeros;
            }
        transform(d, dst + t * (size_t)channels, stride, channels);
    }
}

// V (planes × T × C) from x: the (m + 2)² input tile of each output tile, `pad` zeros around each image.
static inline void winograd_input_tiles(const float *x, size_t first, size_t count, int height, int width, int channels,
                                        int pad, int m, winograd_input_tile transform, float *v, size_t tile_begin,
                                        size_t tile_end) {
    int out_height = height + 2 * pad - 2, out_width = width + 2 * pad - 2;
    winograd_gather_tiles(x, first, count, height, width, channels, (out_height + m - 1) / m, (out_width + m - 1) / m,
                          m + 2, m, -pad, transform, v, tile_begin, tile_end);
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

// Ĝ (planes × T × C) from ∂y: each output tile's m² gradients, zero past the edge.
static inline void winograd_gradient_tiles(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                           int channels, int m, winograd_gradient_tile transform, float *g,
                                           size_t tile_begin, size_t tile_end) {
    winograd_gather_tiles(dy, first, count, out_height, out_width, channels, (out_height + m - 1) / m,
                          (out_width + m - 1) / m, m, m, 0, transform, g, tile_begin, tile_end);
}
