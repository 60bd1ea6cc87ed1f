// The linear classifier's two minibatch products on raw pixel bytes (see linear_u8.h).
//
// Shapes: x is N×D bytes (a batch inside the training pixels), w is C×D, scores and g are N×C, dw is C×D.
// Bytes are widened to floats in registers, so a CIFAR batch streams 0.6 MB instead of 2.4 MB of
// Floats and fits in L2 for the second pass.
// Forward: two rows × four classes per pass (8 FMA accumulators), so each batch row is read from
// memory once and W (C·D floats, 120 KB for CIFAR) stays in L2. Gradient: a 4-class × 16-column
// block of dW kept in registers over all rows (the batch's bytes are in L2 by then), stored once. Measured here (EPYC, one core, N = 200, D = 3072, C = 10):
// see Benchmarks/RESULTS.md (the Float version of these loops was slower than sgemm: memory bound).
#include "linear_u8.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PERCEPT_LINEAR_X86 1
#endif

void percept_affine_rows_u8_scalar(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                                    const float *w, const float *bias, size_t c, float *scores) {
    for (size_t i = row_begin; i < row_end; i++) {
        for (size_t j = 0; j < c; j++) {
            float sum = 0;
            for (size_t k = 0; k < d; k++) sum += (float)x[i * d + k] * w[j * d + k];
            scores[i * c + j] = bias[j] + sum;
        }
    }
}

void percept_affine_weight_gradient_u8_scalar(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                               size_t k_begin, size_t k_end, float *dw) {
    for (size_t j = 0; j < c; j++) memset(dw + j * d + k_begin, 0, (k_end - k_begin) * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < c; j++) {
            const float gij = g[i * c + j];
            for (size_t k = k_begin; k < k_end; k++) dw[j * d + k] += gij * (float)x[i * d + k];
        }
    }
}

#ifdef PERCEPT_LINEAR_X86
static int has_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    }
    return cached;
}

__attribute__((target("avx2,fma")))
static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    return _mm_cvtss_f32(s);
}

/// Eight bytes as eight floats.
__attribute__((target("avx2,fma")))
static inline __m256 load8(const uint8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

__attribute__((target("avx2,fma")))
static void rows_avx2(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                      const float *w, const float *bias, size_t c, float *scores) {
    const size_t d8 = d & ~(size_t)7;
    size_t i = row_begin;
    for (; i + 2 <= row_end; i += 2) {
        const uint8_t *x0 = x + i * d, *x1 = x0 + d;
        size_t j = 0;
        for (; j + 4 <= c; j += 4) {
            const float *w0 = w + j * d, *w1 = w0 + d, *w2 = w1 + d, *w3 = w2 + d;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (size_t k = 0; k < d8; k += 8) {
                const __m256 u = load8(x0 + k), v = load8(x1 + k);
                __m256 t = _mm256_loadu_ps(w0 + k); a0 = _mm256_fmadd_ps(t, u, a0); b0 = _mm256_fmadd_ps(t, v, b0);
                t = _mm256_loadu_ps(w1 + k); a1 = _mm256_fmadd_ps(t, u, a1); b1 = _mm256_fmadd_ps(t, v, b1);
                t = _mm256_loadu_ps(w2 + k); a2 = _mm256_fmadd_ps(t, u, a2); b2 = _mm256_fmadd_ps(t, v, b2);
                t = _mm256_loadu_ps(w3 + k); a3 = _mm256_fmadd_ps(t, u, a3); b3 = _mm256_fmadd_ps(t, v, b3);
            }
            float s0[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)}, s1[4] = {hsum(b0), hsum(b1), hsum(b2), hsum(b3)};
            for (size_t k = d8; k < d; k++) {
                for (size_t q = 0; q < 4; q++) {
                    s0[q] += (float)x0[k] * w[(j + q) * d + k];
                    s1[q] += (float)x1[k] * w[(j + q) * d + k];
                }
            }
            for (size_t q = 0; q < 4; q++) {
                scores[i * c + j + q] = bias[j + q] + s0[q];
                scores[(i + 1) * c + j + q] = bias[j + q] + s1[q];
            }
        }
        for (; j < c; j++) {
            const float *wj = w + j * d;
            __m256 a = _mm256_setzero_ps(), b = a;
            for (size_t k = 0; k < d8; k += 8) {
                const __m256 t = _mm256_loadu_ps(wj + k);
                a = _mm256_fmadd_ps(t, load8(x0 + k), a);
                b = _mm256_fmadd_ps(t, load8(x1 + k), b);
            }
            float s0 = hsum(a), s1 = hsum(b);
            for (size_t k = d8; k < d; k++) { s0 += (float)x0[k] * wj[k]; s1 += (float)x1[k] * wj[k]; }
            scores[i * c + j] = bias[j] + s0;
            scores[(i + 1) * c + j] = bias[j] + s1;
        }
    }
    for (; i < row_end; i++) {
        const uint8_t *xi = x + i * d;
        for (size_t j = 0; j < c; j++) {
            const float *wj = w + j * d;
            __m256 a = _mm256_setzero_ps();
            for (size_t k = 0; k < d8; k += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(wj + k), load8(xi + k), a);
            float s = hsum(a);
            for (size_t k = d8; k < d; k++) s += (float)xi[k] * wj[k];
            scores[i * c + j] = bias[j] + s;
        }
    }
}

__attribute__((target("avx2,fma")))
static void gradient_avx2(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                          size_t k_begin, size_t k_end, float *dw) {
    // Sixteen columns × four classes of dW in eight registers, accumulated over every row: eight
    // independent FMA chains, nothing stored until the end, each row's 16 bytes read from L1/L2.
    size_t k = k_begin;
    for (; k + 16 <= k_end; k += 16) {
        size_t j = 0;
        for (; j + 4 <= c; j += 4) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (size_t i = 0; i < n; i++) {
                const uint8_t *xi = x + i * d + k;
                const float *gi = g + i * c + j;
                const __m256 u = load8(xi), v = load8(xi + 8);
                __m256 t = _mm256_broadcast_ss(gi); a0 = _mm256_fmadd_ps(t, u, a0); b0 = _mm256_fmadd_ps(t, v, b0);
                t = _mm256_broadcast_ss(gi + 1); a1 = _mm256_fmadd_ps(t, u, a1); b1 = _mm256_fmadd_ps(t, v, b1);
                t = _mm256_broadcast_ss(gi + 2); a2 = _mm256_fmadd_ps(t, u, a2); b2 = _mm256_fmadd_ps(t, v, b2);
                t = _mm256_broadcast_ss(gi + 3); a3 = _mm256_fmadd_ps(t, u, a3); b3 = _mm256_fmadd_ps(t, v, b3);
            }
            float *o = dw + j * d + k;
            _mm256_storeu_ps(o, a0); _mm256_storeu_ps(o + 8, b0);
            _mm256_storeu_ps(o + d, a1); _mm256_storeu_ps(o + d + 8, b1);
            _mm256_storeu_ps(o + 2 * d, a2); _mm256_storeu_ps(o + 2 * d + 8, b2);
            _mm256_storeu_ps(o + 3 * d, a3); _mm256_storeu_ps(o + 3 * d + 8, b3);
        }
        for (; j < c; j++) {
            __m256 a = _mm256_setzero_ps(), b = a;
            for (size_t i = 0; i < n; i++) {
                const uint8_t *xi = x + i * d + k;
                const __m256 t = _mm256_broadcast_ss(g + i * c + j);
                a = _mm256_fmadd_ps(t, load8(xi), a);
                b = _mm256_fmadd_ps(t, load8(xi + 8), b);
            }
            _mm256_storeu_ps(dw + j * d + k, a);
            _mm256_storeu_ps(dw + j * d + k + 8, b);
        }
    }
    if (k < k_end) percept_affine_weight_gradient_u8_scalar(g, x, n, d, c, k, k_end, dw);
}
#endif

void percept_affine_rows_u8(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                             const float *w, const float *bias, size_t c, float *scores) {
#ifdef PERCEPT_LINEAR_X86
    if (has_avx2_fma()) {
        rows_avx2(x, row_begin, row_end, d, w, bias, c, scores);
        return;
    }
#endif
    percept_affine_rows_u8_scalar(x, row_begin, row_end, d, w, bias, c, scores);
}

void percept_affine_weight_gradient_u8(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                        size_t k_begin, size_t k_end, float *dw) {
#ifdef PERCEPT_LINEAR_X86
    if (has_avx2_fma()) {
        gradient_avx2(g, x, n, d, c, k_begin, k_end, dw);
        return;
    }
#endif
    percept_affine_weight_gradient_u8_scalar(g, x, n, d, c, k_begin, k_end, dw);
}
