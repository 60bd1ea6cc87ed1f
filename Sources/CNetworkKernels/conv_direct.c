// Direct NHWC convolution for narrow layers, AVX2 + FMA (see include/cnetworkkernels.h).
//
// An output tile of P neighbouring pixels × Cout channels lives in P·Cout/8 YMM accumulators
// (≤ 8). For every kernel tap (ky, kx) and input channel ci, the Cout weights w[ky, kx, ci, :] are
// loaded once (Cout/8 vectors) and each pixel's input value is broadcast and multiplied into its
// accumulators: P·Cout/8 FMAs per Cout/8 + P loads. The input rows and the K·K·Cin·Cout weights
// stay in L1/L2, so unlike im2col + GEMM nothing large is written or packed. The epilogue (bias,
// residual addend, ReLU) is applied to the accumulators before the one store of each output.
#include "cnetworkkernels.h"
#include "activation.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)

int percept_network_has_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    }
    return cached;
}

// One output row segment of P pixels starting at ox0, CV = Cout/8 vectors per pixel.
#define DEFINE_TILE(P, CV)                                                                                   \
__attribute__((target("avx2,fma"))) static void tile_##P##_##CV(                                            \
    const float *image, const float *w, float *out, int height, int width, int cin, int kernel, int stride,   \
    int pad, int oy, int ox0, const float *zeros, const float *bias, const float *addend, int activation) {   \
    __m256 acc[P][CV];                                                                                        \
    for (int p = 0; p < P; p++)                                                                               \
        for (int v = 0; v < CV; v++) acc[p][v] = _mm256_setzero_ps();                                         \
    for (int ky = 0; ky < kernel; ky++) {                                                                     \
        int iy = oy * stride - pad + ky;                                                                      \
        if (iy < 0 || iy >= height) continue;                                                                 \
        const float *row = image + (size_t)iy * width * cin;                                                  \
        for (int kx = 0; kx < kernel; kx++) {                                                                 \
            const float *src[P];  /* a pixel in the padding reads the zero row: no test in the ci loop */  \
            for (int p = 0; p < P; p++) {                                                                     \
                int ix = (ox0 + p) * stride - pad + kx;                                                       \
                src[p] = ix >= 0 && ix < width ? row + (size_t)ix * cin : zeros;                              \
            }                                                                                                 \
            const float *wk = w + (size_t)(ky * kernel + kx) * cin * (CV * 8);                                \
            for (int ci = 0; ci < cin; ci++) {                                                                \
                __m256 wv[CV];                                                                                \
                for (int v = 0; v < CV; v++) wv[v] = _mm256_loadu_ps(wk + (size_t)ci * (CV * 8) + v * 8);     \
                for (int p = 0; p < P; p++) {                                                                 \
                    __m256 xv = _mm256_broadcast_ss(src[p] + ci);                                             \
                    for (int v = 0; v < CV; v++) acc[p][v] = _mm256_fmadd_ps(xv, wv[v], acc[p][v]);           \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    for (int p = 0; p < P; p++)                                                                               \
        for (int v = 0; v < CV; v++) {                                                                        \
            __m256 r = acc[p][v];                                                                             \
            if (bias) r = _mm256_add_ps(r, _mm256_loadu_ps(bias + v * 8));                                    \
            if (addend) r = _mm256_add_ps(r, _mm256_loadu_ps(addend + (size_t)p * (CV * 8) + v * 8));         \
            r = percept_activate_avx2(r, activation);                                                         \
            _mm256_storeu_ps(out + (size_t)p * (CV * 8) + v * 8, r);                                          \
        }                                                                                                     \
}

DEFINE_TILE(8, 1)
DEFINE_TILE(1, 1)
DEFINE_TILE(4, 2)
DEFINE_TILE(1, 2)
DEFINE_TILE(2, 3)
DEFINE_TILE(1, 3)
DEFINE_TILE(2, 4)
DEFINE_TILE(1, 4)

typedef void (*tile_fn)(const float *, const float *, float *, int, int, int, int, int, int, int, int, const float *,
                        const float *, const float *, int);

int percept_conv2d_direct_nhwc(const float *x, const float *w, float *y, size_t first, size_t count,
                               int height, int width, int cin, int kernel, int stride, int pad, int cout,
                               int out_height, int out_width, percept_conv_epilogue epilogue) {
    if (!percept_network_has_avx2_fma()) return 0;
    tile_fn wide, narrow;
    int P;  // pixels per wide tile
    switch (cout) {
    case 8: wide = tile_8_1; narrow = tile_1_1; P = 8; break;
    case 16: wide = tile_4_2; narrow = tile_1_2; P = 4; break;
    case 24: wide = tile_2_3; narrow = tile_1_3; P = 2; break;
    case 32: wide = tile_2_4; narrow = tile_1_4; P = 2; break;
    default: return 0;
    }
    size_t in_count = (size_t)height * width * cin, out_count = (size_t)out_height * out_width * cout;
    float zeros[cin];
    memset(zeros, 0, sizeof(float) * (size_t)cin);
    for (size_t n = first; n < first + count; n++) {
        const float *image = x + n * in_count;
        for (int oy = 0; oy < out_height; oy++) {
            size_t row = n * out_count + (size_t)oy * out_width * cout;
            for (int ox = 0; ox < out_width;) {
                int pixels = ox + P <= out_width ? P : 1;  // the row's last few pixels one at a time
                size_t at = row + (size_t)ox * cout;
                (pixels == P ? wide : narrow)(image, w, y + at, height, width, cin, kernel, stride, pad, oy, ox,
                                              zeros, epilogue.bias, epilogue.addend ? epilogue.addend + at : NULL,
                                              epilogue.activation);
                ox += pixels;
            }
        }
    }
    return 1;
}

#else
int percept_network_has_avx2_fma(void) { return 0; }
int percept_conv2d_direct_nhwc(const float *x, const float *w, float *y, size_t first, size_t count,
                               int height, int width, int cin, int kernel, int stride, int pad, int cout,
                               int out_height, int out_width, percept_conv_epilogue epilogue) {
    (void)epilogue; (void)x; (void)w; (void)y; (void)first; (void)count; (void)height; (void)width; (void)cin; (void)kernel;
    (void)stride; (void)pad; (void)cout; (void)out_height; (void)out_width;
    return 0;
}
#endif
