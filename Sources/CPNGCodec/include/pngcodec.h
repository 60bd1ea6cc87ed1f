#pragma once
// Thin C wrappers around libpng's classic API. libpng reports errors by longjmp,
// which Swift cannot catch, so every libpng call lives here behind setjmp and the
// Swift side only sees a return code and a message.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What the IHDR (and tRNS) chunks say.
typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;      // as stored: 1, 2, 4, 8 or 16
    int color_type;     // PNG colour type: 0 gray, 2 rgb, 3 palette, 4 gray+alpha, 6 rgba
    int interlaced;     // 1 for Adam7
    int has_trns;       // 1 when a tRNS chunk is present
    int output_channels; // what pngcodec_decode writes: 3 (RGB8) or 4 (RGBA8)
} pngcodec_info;

/// Reads the header only. Returns 0 on success, -1 with a message in `err`.
int pngcodec_read_info(const void *data, size_t size, pngcodec_info *info,
                       char *err, size_t err_len);

/// Decodes the whole image to 8-bit RGB or RGBA (`info->output_channels`), rows top to bottom.
/// 16-bit samples are scaled with rounding (png_set_scale_16), gray is replicated,
/// palette is expanded, tRNS becomes an alpha channel. `out` must hold
/// width × height × output_channels bytes. Returns 0 on success, -1 with a message in `err`.
int pngcodec_decode(const void *data, size_t size, uint8_t *out, size_t out_size,
                    pngcodec_info *info, char *err, size_t err_len);

/// Encodes already packed PNG rows (`height` rows of `row_bytes` bytes, big-endian 16-bit,
/// sub-byte samples packed MSB first). `palette` is `palette_count` RGB triples;
/// `trns` is `trns_count` entries (palette alphas, or one gray / three RGB 16-bit values).
/// On success returns 0 and a malloc'd buffer in `*out` (free with pngcodec_free).
int pngcodec_encode(uint32_t width, uint32_t height, int color_type, int bit_depth,
                    const uint8_t *rows, size_t row_bytes,
                    const uint8_t *palette, int palette_count,
                    const uint16_t *trns, int trns_count, int interlaced,
                    uint8_t **out, size_t *out_size, char *err, size_t err_len);

void pngcodec_free(void *buffer);

#ifdef __cplusplus
}
#endif
