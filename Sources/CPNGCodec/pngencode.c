// PNG encoding to memory with libpng, errors turned into return codes (see pngcodec.h).
#include "pngcodec.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pngerror.h"

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
    pngcodec_error_sink error;
} writer_state;

static void write_to_memory(png_structp png, png_bytep source, size_t length) {
    writer_state *state = (writer_state *)png_get_io_ptr(png);
    if (state->capacity - state->size < length) {
        size_t capacity = state->capacity ? state->capacity : 4096;
        while (capacity - state->size < length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(state->data, capacity);
        if (!grown) png_error(png, "out of memory");
        state->data = grown;
        state->capacity = capacity;
    }
    memcpy(state->data + state->size, source, length);
    state->size += length;
}

static void flush_memory(png_structp png) { (void)png; }

int pngcodec_encode(uint32_t width, uint32_t height, int color_type, int bit_depth,
                    const uint8_t *rows, size_t row_bytes,
                    const uint8_t *palette, int palette_count,
                    const uint16_t *trns, int trns_count, int interlaced,
                    uint8_t **out, size_t *out_size, char *err, size_t err_len) {
    writer_state state = { NULL, 0, 0, 0, { err, err_len } };
    if (err && err_len > 0) err[0] = 0;
    *out = NULL;
    *out_size = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state.error, pngcodec_on_error, pngcodec_on_warning);
    if (!png) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile row_pointers = NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_free(png, row_pointers);
        png_destroy_write_struct(&png, &info);
        free(state.data);
        return -1;
    }
    png_set_write_fn(png, &state, write_to_memory, flush_memory);
    png_set_IHDR(png, info, width, height, bit_depth, color_type,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        if (!palette || palette_count <= 0 || palette_count > 256) png_error(png, "palette needs 1 to 256 entries");
        png_color entries[256];
        for (int i = 0; i < palette_count; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, entries, palette_count);
    }
    if (trns && trns_count > 0) {
        if (color_type == PNG_COLOR_TYPE_PALETTE) {
            if (trns_count > palette_count) png_error(png, "more tRNS entries than palette entries");
            png_byte alphas[256];
            for (int i = 0; i < trns_count; i++) alphas[i] = (png_byte)trns[i];
            png_set_tRNS(png, info, alphas, trns_count, NULL);
        } else if (color_type == PNG_COLOR_TYPE_GRAY && trns_count == 1) {
            png_color_16 key = { 0, 0, 0, 0, trns[0] };
            png_set_tRNS(png, info, NULL, 0, &key);
        } else if (color_type == PNG_COLOR_TYPE_RGB && trns_count == 3) {
            png_color_16 key = { 0, trns[0], trns[1], trns[2], 0 };
            png_set_tRNS(png, info, NULL, 0, &key);
        } else {
            png_error(png, "tRNS needs palette alphas, one gray value or three RGB values");
        }
    }
    png_write_info(png, info);
    row_pointers = (png_bytep *)png_malloc(png, sizeof(png_bytep) * (height ? height : 1));
    for (size_t y = 0; y < height; y++) {
        row_pointers[y] = (png_bytep)(rows + y * row_bytes);
    }
    png_write_image(png, row_pointers);  // handles Adam7 passes itself
    png_write_end(png, NULL);
    png_free(png, row_pointers);
    row_pointers = NULL;
    png_destroy_write_struct(&png, &info);
    *out = state.data;
    *out_size = state.size;
    return 0;
}

void pngcodec_free(void *buffer) { free(buffer); }
