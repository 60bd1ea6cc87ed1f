// PNG decoding from memory with libpng, errors turned into return codes (see pngcodec.h).
#include "pngcodec.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "pngerror.h"

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    pngcodec_error_sink error;
} reader_state;

static void read_from_memory(png_structp png, png_bytep dest, size_t length) {
    reader_state *state = (reader_state *)png_get_io_ptr(png);
    if (state->size - state->offset < length) {
        png_error(png, "file is truncated (unexpected end of data)");
    }
    memcpy(dest, state->data + state->offset, length);
    state->offset += length;
}

static void fill_info(png_structp png, png_infop info, pngcodec_info *out) {
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->color_type = png_get_color_type(png, info);
    out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    out->output_channels = ((out->color_type & PNG_COLOR_MASK_ALPHA) || out->has_trns) ? 4 : 3;
}

// Shared by both entry points: `out == NULL` means header only.
static int run(const void *data, size_t size, uint8_t *out, size_t out_size,
               pngcodec_info *result, char *err, size_t err_len) {
    reader_state state = { (const uint8_t *)data, size, 0, { err, err_len } };
    if (err && err_len > 0) err[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state.error, pngcodec_on_error, pngcodec_on_warning);
    if (!png) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    // Declared volatile: they change between setjmp and a possible longjmp.
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &state, read_from_memory);
    png_read_info(png, info);
    fill_info(png, info, result);
    if (out == NULL) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }

    png_set_expand(png);       // palette → RGB, gray 1/2/4 → 8 (scaled), tRNS → alpha
    png_set_scale_16(png);     // 16 → 8 bits: v·255/65535, rounded
    png_set_gray_to_rgb(png);  // replicate gray into R, G, B
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t width = result->width, height = result->height;
    size_t channels = (size_t)png_get_channels(png, info);
    if (channels != (size_t)result->output_channels || png_get_bit_depth(png, info) != 8) {
        png_error(png, "unexpected layout after libpng transforms");
    }
    if (height != 0 && width > out_size / height / channels) {
        png_error(png, "output buffer too small");
    }
    rows = (png_bytep *)png_malloc(png, sizeof(png_bytep) * (height ? height : 1));
    for (size_t y = 0; y < height; y++) {
        rows[y] = out + y * width * channels;
    }
    png_read_image(png, rows);
    png_read_end(png, NULL);   // checks the chunks after the image data, up to IEND
    png_free(png, rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int pngcodec_read_info(const void *data, size_t size, pngcodec_info *info, char *err, size_t err_len) {
    return run(data, size, NULL, 0, info, err, err_len);
}

int pngcodec_decode(const void *data, size_t size, uint8_t *out, size_t out_size,
                    pngcodec_info *info, char *err, size_t err_len) {
    if (out == NULL) {
        snprintf(err, err_len, "no output buffer");
        return -1;
    }
    return run(data, size, out, out_size, info, err, err_len);
}
