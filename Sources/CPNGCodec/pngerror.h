// Shared by the decoder and encoder: libpng reports errors through a callback that must not
// return, so the message is copied to the caller's buffer and control longjmps back to the
// setjmp in the codec function. Warnings (e.g. a bad CRC in an ancillary chunk, which libpng
// skips) do not stop the work.
#pragma once
#include <png.h>
#include <stdio.h>

typedef struct {
    char *text;
    size_t capacity;
} pngcodec_error_sink;

static void pngcodec_on_error(png_structp png, png_const_charp message) {
    pngcodec_error_sink *sink = (pngcodec_error_sink *)png_get_error_ptr(png);
    if (sink && sink->text && sink->capacity > 0) {
        snprintf(sink->text, sink->capacity, "%s", message);
    }
    png_longjmp(png, 1);
}

static void pngcodec_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}
