// Winograd F(2×2, 3×3) transforms for 3×3, stride-1 convolutions over NHWC activations
// (Lavin & Gray 2016), see include/cnetworkkernels.h.
//
// A 3×3 convolution computes each 2×2 output tile from a 4×4 input tile. Transformed, it becomes
// 16 element-wise products per (input, output) channel pair instead of 36 multiply-adds — summed
// over input channels, that is 16 independent GEMMs (tiles × Cin)·(Cin × Cout), which BLAS does.
// The transforms here are additions only, vectorised over channels (NHWC keeps them contiguous),
// and write 16/4 = 4 floats per input pixel where im2col writes 9.
//
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
//   V = Bᵀ d B (input tile), U = G g Gᵀ (filter), Y = Aᵀ (Σ_ci U ⊙ V) A.
#include "cnetworkkernels.h"
#include "activation.h"
#include "winograd_tiles.h"


// The channel loops: 8 channels at a time in AVX2 registers where the CPU has them, one at a
// time otherwise (and for the last C mod 8). Both orders of additions are the same, so the two
// paths give identical results (a fused GELU aside: its polynomial uses FMA only in the AVX2 path).
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2_VARIANT 1
#else
#define HAVE_AVX2_VARIANT 0
#endif

static inline void input_tile_scalar(const float *const d[16], float *out, size_t stride, int c) {
    float b[16];
    for (int s = 0; s < 4; s++) {  // Bᵀ d: combine rows
        float d0 = d[s][c], d1 = d[4 + s][c], d2 = d[8 + s][c], d3 = d[12 + s][c];
        b[s] = d0 - d2; b[4 + s] = d1 + d2; b[8 + s] = d2 - d1; b[12 + s] = d1 - d3;
    }
    for (int r = 0; r < 4; r++) {  // (Bᵀ d) B: combine columns
        float e0 = b[r * 4], e1 = b[r * 4 + 1], e2 = b[r * 4 + 2], e3 = b[r * 4 + 3];
        out[(size_t)(r * 4 + 0) * stride + c] = e0 - e2;
        out[(size_t)(r * 4 + 1) * stride + c] = e1 + e2;
        out[(size_t)(r * 4 + 2) * stride + c] = e2 - e1;
        out[(size_t)(r * 4 + 3) * stride + c] = e1 - e3;
    }
}

// The epilogue's addend for output k of the tile is ad[k] (NULL when there is none).
static inline void output_tile_scalar(const float *in, size_t stride, float *const o[4], const float *bias,
                                      const float *const ad[4], int activation, int c) {
    float a[8];
    for (int s = 0; s < 4; s++) {  // Aᵀ m: combine rows
        float m0 = in[(size_t)s * stride + c], m1 = in[(size_t)(4 + s) * stride + c];
        float m2 = in[(size_t)(8 + s) * stride + c], m3 = in[(size_t)(12 + s) * stride + c];
        a[s] = m0 + m1 + m2; a[4 + s] = m1 - m2 - m3;
    }
    float add = bias ? bias[c] : 0.0f, y[4];
    for (int r = 0; r < 2; r++) {  // (Aᵀ m) A: combine columns
        y[r * 2] = a[r * 4] + a[r * 4 + 1] + a[r * 4 + 2] + add;
        y[r * 2 + 1] = a[r * 4 + 1] - a[r * 4 + 2] - a[r * 4 + 3] + add;
    }
    for (int k = 0; k < 4; k++) {
        float value = ad[k] ? y[k] + ad[k][c] : y[k];
        o[k][c] = percept_activate(value, activation);
    }
}

#if HAVE_AVX2_VARIANT
__attribute__((target("avx2,fma"))) static void input_tile_avx2(const float *const d[16], float *out, size_t stride,
                                                                 int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 b[16];
        for (int s = 0; s < 4; s++) {
            __m256 d0 = _mm256_loadu_ps(d[s] + c), d1 = _mm256_loadu_ps(d[4 + s] + c);
            __m256 d2 = _mm256_loadu_ps(d[8 + s] + c), d3 = _mm256_loadu_ps(d[12 + s] + c);
            b[s] = _mm256_sub_ps(d0, d2); b[4 + s] = _mm256_add_ps(d1, d2);
            b[8 + s] = _mm256_sub_ps(d2, d1); b[12 + s] = _mm256_sub_ps(d1, d3);
        }
        for (int r = 0; r < 4; r++) {
            __m256 e0 = b[r * 4], e1 = b[r * 4 + 1], e2 = b[r * 4 + 2], e3 = b[r * 4 + 3];
            _mm256_storeu_ps(out + (size_t)(r * 4 + 0) * stride + c, _mm256_sub_ps(e0, e2));
            _mm256_storeu_ps(out + (size_t)(r * 4 + 1) * stride + c, _mm256_add_ps(e1, e2));
            _mm256_storeu_ps(out + (size_t)(r * 4 + 2) * stride + c, _mm256_sub_ps(e2, e1));
            _mm256_storeu_ps(out + (size_t)(r * 4 + 3) * stride + c, _mm256_sub_ps(e1, e3));
        }
    }
    for (; c < channels; c++) input_tile_scalar(d, out, stride, c);
}

__attribute__((target("avx2,fma"))) static void output_tile_avx2(const float *in, size_t stride, float *const o[4],
                                                                  const float *bias, const float *const ad[4], int activation,
                                                                  int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 a[8];
        for (int s = 0; s < 4; s++) {
            __m256 m0 = _mm256_loadu_ps(in + (size_t)s * stride + c), m1 = _mm256_loadu_ps(in + (size_t)(4 + s) * stride + c);
            __m256 m2 = _mm256_loadu_ps(in + (size_t)(8 + s) * stride + c), m3 = _mm256_loadu_ps(in + (size_t)(12 + s) * stride + c);
            a[s] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
            a[4 + s] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
        }
        __m256 add = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
        __m256 y[4];
        for (int r = 0; r < 2; r++) {
            y[r * 2] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[r * 4], a[r * 4 + 1]), a[r * 4 + 2]), add);
            y[r * 2 + 1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(a[r * 4 + 1], a[r * 4 + 2]), a[r * 4 + 3]), add);
        }
        for (int k = 0; k < 4; k++) {
            if (ad[k]) y[k] = _mm256_add_ps(y[k], _mm256_loadu_ps(ad[k] + c));
            y[k] = percept_activate_avx2(y[k], activation);
            _mm256_storeu_ps(o[k] + c, y[k]);
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

void percept_winograd_input(const float *x, size_t first, size_t count, int height, int width, int channels, int pad,
                            float *v, size_t tile_begin, size_t tile_end) {
    winograd_input_tile transform = input_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = input_tile_avx2;
#endif
    winograd_input_tiles(x, first, count, height, width, channels, pad, 2, transform, v, tile_begin, tile_end);
}

void percept_winograd_output(const float *m, size_t first, size_t count, int out_height, int out_width, int channels,
                             percept_conv_epilogue epilogue, float *y, size_t tile_begin, size_t tile_end) {
    winograd_output_tile transform = output_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = output_tile_avx2;
#endif
    winograd_output_tiles(m, first, count, out_height, out_width, channels, epilogue, 2, transform, y, tile_begin, tile_end);
}

void percept_winograd_weights(const float *w, int cin, int cout, int flip, float *u) {
    const size_t plane = (size_t)cin * cout;
    for (int ci = 0; ci < cin; ci++) {
        for (int co = 0; co < cout; co++) {
            float g[9];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    // flip: the filter of the input gradient, w'[ky, kx, co, ci] = w[2 − ky, 2 − kx, ci, co]
                    // (here ci/co name the transformed layer's channels: ci over cout of w).
                    g[ky * 3 + kx] = flip ? w[(((size_t)(2 - ky) * 3 + (2 - kx)) * cout + co) * cin + ci]
                                          : w[(((size_t)ky * 3 + kx) * cin + ci) * cout + co];
                }
            float t[12];  // G g: 4 rows × 3
            for (int s = 0; s < 3; s++) {
                float g0 = g[s], g1 = g[3 + s], g2 = g[6 + s];
                t[s] = g0; t[3 + s] = 0.5f * (g0 + g1 + g2); t[6 + s] = 0.5f * (g0 - g1 + g2); t[9 + s] = g2;
            }
            for (int r = 0; r < 4; r++) {  // (G g) Gᵀ
                float e0 = t[r * 3], e1 = t[r * 3 + 1], e2 = t[r * 3 + 2];
                float *row = u + (size_t)(r * 4) * plane + (size_t)ci * cout + co;
                row[0] = e0;
                row[plane] = 0.5f * (e0 + e1 + e2);
                row[2 * plane] = 0.5f * (e0 - e1 + e2);
                row[3 * plane] = e2;
            }
        }
    }
}

// The weight gradient. With Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A per tile, ∂L/∂g = Gᵀ[(A ∂Y Aᵀ) ⊙ (Bᵀ d B)]G:
// transform the 2×2 output-gradient tiles with A (below), multiply with the forward's input
// transform summed over tiles (16 GEMMs, Vᵀ·Ĝ, by BLAS), and fold the 4×4 result back to 3×3.
//   A = [1 0; 1 1; 1 −1; 0 −1]   Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]

static inline void gradient_tile_scalar(const float *const g[4], float *out, size_t stride, int c) {
    float r[8];
    for (int s = 0; s < 2; s++) {  // A ∂Y: rows
        float g0 = g[s][c], g1 = g[2 + s][c];
        r[s] = g0; r[2 + s] = g0 + g1; r[4 + s] = g0 - g1; r[6 + s] = -g1;
    }
    for (int i = 0; i < 4; i++) {  // (A ∂Y) Aᵀ: columns
        float e0 = r[i * 2], e1 = r[i * 2 + 1];
        out[(size_t)(i * 4 + 0) * stride + c] = e0;
        out[(size_t)(i * 4 + 1) * stride + c] = e0 + e1;
        out[(size_t)(i * 4 + 2) * stride + c] = e0 - e1;
        out[(size_t)(i * 4 + 3) * stride + c] = -e1;
    }
}

#if HAVE_AVX2_VARIANT
__attribute__((target("avx2,fma"))) static void gradient_tile_avx2(const float *const g[4], float *out, size_t stride,
                                                                    int channels) {
    int c = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (; c + 8 <= channels; c += 8) {
        __m256 r[8];
        for (int s = 0; s < 2; s++) {
            __m256 g0 = _mm256_loadu_ps(g[s] + c), g1 = _mm256_loadu_ps(g[2 + s] + c);
            r[s] = g0; r[2 + s] = _mm256_add_ps(g0, g1); r[4 + s] = _mm256_sub_ps(g0, g1); r[6 + s] = _mm256_sub_ps(zero, g1);
        }
        for (int i = 0; i < 4; i++) {
            __m256 e0 = r[i * 2], e1 = r[i * 2 + 1];
            _mm256_storeu_ps(out + (size_t)(i * 4 + 0) * stride + c, e0);
            _mm256_storeu_ps(out + (size_t)(i * 4 + 1) * stride + c, _mm256_add_ps(e0, e1));
            _mm256_storeu_ps(out + (size_t)(i * 4 + 2) * stride + c, _mm256_sub_ps(e0, e1));
            _mm256_storeu_ps(out + (size_t)(i * 4 + 3) * stride + c, _mm256_sub_ps(zero, e1));
        }
    }
    for (; c < channels; c++) gradient_tile_scalar(g, out, stride, c);
}
#endif

static void gradient_tile_each(const float *const *g, float *out, size_t stride, int channels) {
    for (int c = 0; c < channels; c++) gradient_tile_scalar(g, out, stride, c);
}

void percept_winograd_output_gradient(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                      int channels, float *g, size_t tile_begin, size_t tile_end) {
    winograd_gradient_tile transform = gradient_tile_each;
#if HAVE_AVX2_VARIANT
    if (percept_network_has_avx2_fma()) transform = gradient_tile_avx2;
#endif
    winograd_gradient_tiles(dy, first, count, out_height, out_width, channels, 2, transform, g, tile_begin, tile_end);
}

void percept_winograd_weight_gradient(const float *what, int cin, int cout, float *dw) {
    const size_t plane = (size_t)cin * cout;
    for (size_t k = 0; k < plane; k++) {  // k = ci·Cout + co, as in dw[ky, kx, ci, co]
        float w[16];
        for (int xi = 0; xi < 16; xi++) w[xi] = what[(size_t)xi * plane + k];
        float t[12];  // Gᵀ Ŵ: 3 rows × 4
        for (int j = 0; j < 4; j++) {
            float w0 = w[j], w1 = w[4 + j], w2 = w[8 + j], w3 = w[12 + j];
            t[j] = w0 + 0.5f * (w1 + w2); t[4 + j] = 0.5f * (w1 - w2); t[8 + j] = 0.5f * (w1 + w2) + w3;
        }
        for (int r = 0; r < 3; r++) {  // (Gᵀ Ŵ) G
            float e0 = t[r * 4], e1 = t[r * 4 + 1], e2 = t[r * 4 + 2], e3 = t[r * 4 + 3];
            dw[(size_t)(r * 3 + 0) * plane + k] = e0 + 0.5f * (e1 + e2);
            dw[(size_t)(r * 3 + 1) * plane + k] = 0.5f * (e1 - e2);
            dw[(size_t)(r * 3 + 2) * plane + k] = 0.5f * (e1 + e2) + e3;
        }
    }
}
