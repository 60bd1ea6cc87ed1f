// Winograd F(4×4, 3×3) for 3×3, stride-1 convolutions over NHWC activations (Lavin & Gray 2016),
// see include/cnetworkkernels.h. The layout is that of winograd.c's F(2×2, 3×3), with 6×6 input
// tiles and 36 transformed planes: each 4×4 output tile costs 36 products per channel pair where a
// direct convolution spends 144 (F(2×2) spends 16 per 2×2 tile, i.e. 64) — 4× fewer
// multiplications instead of 2.25×, for transforms with more additions and slightly larger
// rounding errors (interpolation points 0, ±1, ±2; fine in fp32 for 3×3 filters).
//
//   Bᵀ = [4  0 −5  0 1 0;       G = [ ¼    0    0;       Aᵀ = [1 1  1 1  1 0;
//         0 −4 −4  1 1 0;            −⅙   −⅙   −⅙;              0 1 −1 2 −2 0;
//         0  4 −4 −1 1 0;            −⅙    ⅙   −⅙;              0 1  1 4  4 0;
//         0 −2 −1  2 1 0;            1/24 1/12 ⅙;               0 1 −1 8 −8 1]
//         0  2 −1 −2 1 0;            1/24 −1/12 ⅙;
//         0  4  0 −5 0 1]             0    0    1]
//   V = Bᵀ d B (input tile), U = G g Gᵀ (filter), Y = Aᵀ (Σ_ci U ⊙ V) A.
#include "cnetworkkernels.h"
#include "activation.h"
#include "winograd_tiles.h"


#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2_VARIANT 1
#else
#define HAVE_AVX2_VARIANT 0
#endif

// One dimension of each transform, written once for floats and once for AVX2 vectors (the
// vector form uses FMA, so the two round differently in the last bit).
static inline void input_1d(const float d[6], float t[6]) {
    t[0] = 4 * d[0] - 5 * d[2] + d[4];
    t[1] = -4 * (d[1] + d[2]) + d[3] + d[4];
    t[2] = 4 * (d[1] - d[2]) + d[4] - d[3];
    t[3] = -2 * (d[1] - d[3]) + d[4] - d[2];
    t[4] = 2 * (d[1] - d[3]) + d[4] - d[2];
    t[5] = 4 * d[1] - 5 * d[3] + d[5];
}

static inline void output_1d(const float m[6], float y[4]) {
    float a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + 2 * d;
    y[2] = a + 4 * c;
    y[3] = b + 8 * d + m[5];
}

static void input_tile_scalar(const float *const d[36], float *out, size_t stride, int c) {
    float rows[36];
    for (int s = 0; s < 6; s++) {  // Bᵀ d: down each column
        float column[6], t[6];
        for (int r = 0; r < 6; r++) column[r] = d[r * 6 + s][c];
        input_1d(column, t);
        for (int r = 0; r < 6; r++) rows[r * 6 + s] = t[r];
    }
    for (int r = 0; r < 6; r++) {  // (Bᵀ d) B: along each row
        float t[6];
        input_1d(rows + r * 6, t);
        for (int s = 0; s < 6; s++) out[(size_t)(r * 6 + s) * stride + c] = t[s];
    }
}

static void output_tile_scalar(const float *in, size_t stride, float *const o[16], const float *bias,
                               const float *const ad[16], int activation, int c) {
    float rows[24];
    for (int s = 0; s < 6; s++) {  // Aᵀ m: down each column
        float column[6], y[4];
        for (int r = 0; r < 6; r++) column[r] = in[(size_t)(r * 6 + s) * stride + c];
        output_1d(column, y);
        for (int k = 0; k < 4; k++) rows[k * 6 + s] = y[k];
    }
    float add = bias ? bias[c] : 0.0f;
    for (int k = 0; k < 4; k++) {  // (Aᵀ m) A: along each row
        float y[4];
        output_1d(rows + k * 6, y);
        for (int j = 0; j < 4; j++) {
            float value = y[j] + add;
            if (ad[k * 4 + j]) value += ad[k * 4 + j][c];
            o[k * 4 + j][c] = percept_activate(value, activation);
        }
    }
}

#if HAVE_AVX2_VARIANT
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline void input_1d_avx2(const __m256 d[6], __m256 t[6]) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), five = _mm256_set1_ps(5);
    __m256 d4_minus_d2 = _mm256_sub_ps(d[4], d[2]), d1_minus_d3 = _mm256_sub_ps(d[1], d[3]);
    t[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
    t[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
    t[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
    t[3] = _mm256_fnmadd_ps(two, d1_minus_d3, d4_minus_d2);
    t[4] = _mm256_fmadd_ps(two, d1_minus_d3, d4_minus_d2);
    t[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

AVX2 static inline void output_1d_avx2(const __m256 m[6], __m256 y[4]) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
    __m256 a = _mm256_add_ps(m[1], m[2]), b = _mm256_sub_ps(m[1], m[2]);
    __m256 c = _mm256_add_ps(m[3], m[4]), d = _mm256_sub_ps(m[3], m[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(m[0], a), c);
    y[1] = _mm256_fmadd_ps(two, d, b);
    y[2] = _mm256_fmadd_ps(four, c, a);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d, b), m[5]);
}

AVX2 static void input_tile_avx2(const float *const d[36], float *out, size_t stride, int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 rows[36];
        for (int s = 0; s < 6; s++) {
            __m256 column[6], t[6];
            for (int r = 0; r < 6; r++) column[r] = _mm256_loadu_ps(d[r * 6 + s] + c);
            input_1d_avx2(column, t);
            for (int r = 0; r < 6; r++) rows[r * 6 + s] = t[r];
        }
        for (int r = 0; r < 6; r++) {
            __m256 t[6];
            input_1d_avx2(rows + r * 6, t);
            for (int s = 0; s < 6; s++) _mm256_storeu_ps(out + (size_t)(r * 6 + s) * stride + c, t[s]);
        }
    }
    for (; c < channels; c++) input_tile_scalar(d, out, stride, c);
}

AVX2 static void output_tile_avx2(const float *in, size_t stride, float *const o[16], const float *bias,
                                  const float *const ad[16], int activation, int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 rows[24];
        for (int s = 0; s < 6; s++) {
            __m256 column[6], y[4];
            for (int r = 0; r < 6; r++) column[r] = _mm256_loadu_ps(in + (size_t)(r * 6 + s) * stride + c);
            output_1d_avx2(column, y);
            for (int k = 0; k < 4; k++) rows[k * 6 + s] = y[k];
        }
        __m256 add = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            __m256 y[4];
            output_1d_avx2(rows + k * 6, y);
            for (int j = 0; j < 4; j++) {
                __m256 value = _mm256_add_ps(y[j], add);
                if (ad[k * 4 + j]) value = _mm256_add_ps(value, _mm256_loadu_ps(ad[k * 4 + j] + c));
                _mm256_storeu_ps(o[k * 4 + j] + c, percept_activate_avx2(value, activation));
            }
        }
    }
    for (; c < channels; c++) output_tile_scalar(in, stride, o, bias, ad, activation, c);
}
#endif

// Every channel of a tile, one at a time: the path for CPUs without AVX2 + FMA.
static void input_tile_each(const float *const *d, float *out, size_t stride, int channels) {
    for (int c = 0; c < channels; c++) input_tile_scalar(d, out, stride, c);
}

static void output_tile_each(const float *in, size_t stride, float *const *o, const float *bias, const float *const *ad,
                             int activation, int channels) {
    for (int c = 0; c < channels; c++) output_tile_scalar(in, stride, o, bias, ad, activation, c);
}

void percept_winograd4_input(const float *x, size_t first, size_t count, int height, int width, int channels, int pad,
                             float *v, size_t tile_begin, size_t tile_end) {
    winograd_input_tile transform = input_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = input_tile_avx2;
#endif
    winograd_input_tiles(x, first, count, height, width, channels, pad, 4, transform, v, tile_begin, tile_end);
}

void percept_winograd4_output(const float *m, size_t first, size_t count, int out_height, int out_width, int channels,
                              percept_conv_epilogue epilogue, float *y, size_t tile_begin, size_t tile_end) {
    winograd_output_tile transform = output_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = output_tile_avx2;
#endif
    winograd_output_tiles(m, first, count, out_height, out_width, channels, epilogue, 4, transform, y, tile_begin, tile_end);
}

void percept_winograd4_weights(const float *w, int cin, int cout, int flip, float *u) {
    const size_t plane = (size_t)cin * cout;
    for (int ci = 0; ci < cin; ci++) {
        for (int co = 0; co < cout; co++) {
            float g[9];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    // flip: the input gradient's filter, as in percept_winograd_weights.
                    g[ky * 3 + kx] = flip ? w[(((size_t)(2 - ky) * 3 + (2 - kx)) * cout + co) * cin + ci]
                                          : w[(((size_t)ky * 3 + kx) * cin + ci) * cout + co];
                }
            float t[18];  // G g: 6 rows × 3
            for (int s = 0; s < 3; s++) {
                float g0 = g[s], g1 = g[3 + s], g2 = g[6 + s];
                t[s] = g0 / 4;
                t[3 + s] = -(g0 + g1 + g2) / 6;
                t[6 + s] = -(g0 - g1 + g2) / 6;
                t[9 + s] = g0 / 24 + g1 / 12 + g2 / 6;
                t[12 + s] = g0 / 24 - g1 / 12 + g2 / 6;
                t[15 + s] = g2;
            }
            for (int r = 0; r < 6; r++) {  // (G g) Gᵀ
                float e0 = t[r * 3], e1 = t[r * 3 + 1], e2 = t[r * 3 + 2];
                float *row = u + (size_t)(r * 6) * plane + (size_t)ci * cout + co;
                row[0] = e0 / 4;
                row[plane] = -(e0 + e1 + e2) / 6;
                row[2 * plane] = -(e0 - e1 + e2) / 6;
                row[3 * plane] = e0 / 24 + e1 / 12 + e2 / 6;
                row[4 * plane] = e0 / 24 - e1 / 12 + e2 / 6;
                row[5 * plane] = e2;
            }
        }
    }
}

// The weight gradient, as winograd.c's for F(2×2): ∂L/∂g = Gᵀ[Σ_tiles (A ∂Y Aᵀ) ⊙ (Bᵀ d B)]G, with
// the 4×4 output-gradient tiles transformed by A (6×4, the transpose of Aᵀ above):
//   A ∂y = (y0, y0 + y1 + y2 + y3, y0 − y1 + y2 − y3, y0 + 2y1 + 4y2 + 8y3, y0 − 2y1 + 4y2 − 8y3, y3)
//   Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]

static inline void gradient_1d(const float y[4], float t[6]) {
    float even = y[0] + y[2], odd = y[1] + y[3];
    float even4 = y[0] + 4 * y[2], odd8 = 2 * y[1] + 8 * y[3];
    t[0] = y[0];
    t[1] = even + odd;
    t[2] = even - odd;
    t[3] = even4 + odd8;
    t[4] = even4 - odd8;
    t[5] = y[3];
}

static void gradient_tile_scalar(const float *const g[16], float *out, size_t stride, int c) {
    float rows[24];
    for (int s = 0; s < 4; s++) {  // A ∂Y: down each column
        float column[4], t[6];
        for (int r = 0; r < 4; r++) column[r] = g[r * 4 + s][c];
        gradient_1d(column, t);
        for (int i = 0; i < 6; i++) rows[i * 4 + s] = t[i];
    }
    for (int i = 0; i < 6; i++) {  // (A ∂Y) Aᵀ: along each row
        float t[6];
        gradient_1d(rows + i * 4, t);
        for (int j = 0; j < 6; j++) out[(size_t)(i * 6 + j) * stride + c] = t[j];
    }
}

#if HAVE_AVX2_VARIANT
AVX2 static inline void gradient_1d_avx2(const __m256 y[4], __m256 t[6]) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
    __m256 even = _mm256_add_ps(y[0], y[2]), odd = _mm256_add_ps(y[1], y[3]);
    __m256 even4 = _mm256_fmadd_ps(four, y[2], y[0]), odd8 = _mm256_fmadd_ps(eight, y[3], _mm256_mul_ps(two, y[1]));
    t[0] = y[0];
    t[1] = _mm256_add_ps(even, odd);
    t[2] = _mm256_sub_ps(even, odd);
    t[3] = _mm256_add_ps(even4, odd8);
    t[4] = _mm256_sub_ps(even4, odd8);
    t[5] = y[3];
}

AVX2 static void gradient_tile_avx2(const float *const g[16], float *out, size_t stride, int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 rows[24];
        for (int s = 0; s < 4; s++) {
            __m256 column[4], t[6];
            for (int r = 0; r < 4; r++) column[r] = _mm256_loadu_ps(g[r * 4 + s] + c);
            gradient_1d_avx2(column, t);
            for (int i = 0; i < 6; i++) rows[i * 4 + s] = t[i];
        }
        for (int i = 0; i < 6; i++) {
            __m256 t[6];
            gradient_1d_avx2(rows + i * 4, t);
            for (int j = 0; j < 6; j++) _mm256_storeu_ps(out + (size_t)(i * 6 + j) * stride + c, t[j]);
        }
    }
    for (; c < channels; c++) gradient_tile_scalar(g, out, stride, c);
}
#endif

static void gradient_tile_each(const float *const *g, float *out, size_t stride, int channels) {
    for (int c = 0; c < channels; c++) gradient_tile_scalar(g, out, stride, c);
}

void percept_winograd4_output_gradient(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                       int channels, float *g, size_t tile_begin, size_t tile_end) {
    winograd_gradient_tile transform = gradient_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = gradient_tile_avx2;
#endif
    winograd_gradient_tiles(dy, first, count, out_height, out_width, channels, 4, transform, g, tile_begin, tile_end);
}

// One dimension of Gᵀ·Ŵ·G: six transformed values to three filter taps.
static inline void fold_1d(const float w[6], float t[3]) {
    t[0] = w[0] / 4 - (w[1] + w[2]) / 6 + (w[3] + w[4]) / 24;
    t[1] = (w[2] - w[1]) / 6 + (w[3] - w[4]) / 12;
    t[2] = -(w[1] + w[2]) / 6 + (w[3] + w[4]) / 6 + w[5];
}

void percept_winograd4_weight_gradient(const float *what, int cin, int cout, float *dw) {
    const size_t plane = (size_t)cin * cout;
    for (size_t k = 0; k < plane; k++) {  // k = ci·Cout + co, as in dw[ky, kx, ci, co]
        float rows[18];
        for (int j = 0; j < 6; j++) {  // Gᵀ Ŵ: down each column
            float column[6], t[3];
            for (int i = 0; i < 6; i++) column[i] = what[(size_t)(i * 6 + j) * plane + k];
            fold_1d(column, t);
            for (int r = 0; r < 3; r++) rows[r * 6 + j] = t[r];
        }
        for (int r = 0; r < 3; r++) {  // (Gᵀ Ŵ) G: along each row
            float t[3];
            fold_1d(rows + r * 6, t);
            for (int s = 0; s < 3; s++) dw[(size_t)(r * 3 + s) * plane + k] = t[s];
        }
    }
}
