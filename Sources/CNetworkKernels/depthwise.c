// Depthwise convolution forward over NHWC activations, AVX2 + FMA (see include/cnetworkkernels.h).
//
// Channel c of the output sees only channel c of the input, so the vectors run along the channels:
// four neighbouring output pixels × 16 channels sit in eight YMM accumulators (eight independent
// FMA chains hide the FMA latency; each weight vector serves four pixels), and what is left over
// (the last pixels of a row, channels beyond a multiple of 16) goes 8 channels at a time, then one.
// Swift cannot ask for AVX2 in one function, hence C; DepthwiseKernels.forward is the SIMD8
// fallback and DepthwiseKernels.referenceForward the test oracle.
#include "cnetworkkernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline __m256 clip_to_six(__m256 v, int clip6) {
    return clip6 ? _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6)) : v;
}

// Channels [j, c) of the output pixel at ox, 8 at a time in one accumulator, then one by one.
__attribute__((target("avx2,fma")))
static void pixel_from(const float *image, const float *w, const float *bias, float *out, int j, int c, int width,
                       int kernel, int y0, int ky0, int ky1, int x0, int clip6) {
    const int kx0 = x0 < 0 ? -x0 : 0, kx1 = width - x0 < kernel ? width - x0 : kernel;
    for (; j + 8 <= c; j += 8) {
        __m256 a = bias ? _mm256_loadu_ps(bias + j) : _mm256_setzero_ps();
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
                a = _mm256_fmadd_ps(_mm256_loadu_ps(image + ((size_t)(y0 + ky) * width + x0 + kx) * c + j),
                                    _mm256_loadu_ps(w + (size_t)(ky * kernel + kx) * c + j), a);
            }
        }
        _mm256_storeu_ps(out + j, clip_to_six(a, clip6));
    }
    for (; j < c; j++) {
        float sum = bias ? bias[j] : 0;
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
                sum += image[((size_t)(y0 + ky) * width + x0 + kx) * c + j] * w[(size_t)(ky * kernel + kx) * c + j];
            }
        }
        out[j] = clip6 ? (sum < 0 ? 0 : (sum > 6 ? 6 : sum)) : sum;
    }
}

// Pixels per block and vectors per pixel of the main loop: 4 × 2 = 8 independent FMA chains, and
// each weight vector is loaded once for four pixels (10 loads per 8 FMAs instead of 16).
enum { PIXELS = 4, VECTORS = 2 };

__attribute__((target("avx2,fma")))
int percept_depthwise_forward_nhwc(const float *x, const float *w, const float *bias, float *y,
                                   size_t row_begin, size_t row_end, int height, int width, int channels,
                                   int kernel, int stride, int top, int left, int out_height, int out_width,
                                   int clip6) {
    if (!percept_network_has_avx2_fma()) return 0;
    // Taps that fall in the left/right padding read these zeros instead (one select per tap and
    // pixel), so a block of pixels near the edge shares the loop of the interior.
    static const float zeros[8 * VECTORS];
    const int c = channels, blocked = c / (8 * VECTORS) * (8 * VECTORS);
    const size_t step = (size_t)stride * c;   // from one pixel of a block to the next
    for (size_t r = row_begin; r < row_end; r++) {
        const float *image = x + (r / (size_t)out_height) * (size_t)height * width * c;
        const int y0 = (int)(r % (size_t)out_height) * stride - top;
        const int ky0 = y0 < 0 ? -y0 : 0, ky1 = height - y0 < kernel ? height - y0 : kernel;
        // Blocks of PIXELS; the last block is moved back to end at the row's end (recomputing a few
        // pixels, same values) so short rows (7 wide at the end of EfficientNet) stay in the main loop.
        int ox = 0;
        for (int done = 0; !done && out_width >= PIXELS; ox += PIXELS) {
            if (ox + PIXELS >= out_width) {
                ox = out_width - PIXELS;
                done = 1;
            }
            const int x0 = ox * stride - left;
            const int interior = x0 >= 0 && x0 + (PIXELS - 1) * stride + kernel <= width;
            float *out = y + (r * out_width + ox) * c;
            for (int j = 0; j < blocked; j += 8 * VECTORS) {
                __m256 acc[PIXELS][VECTORS];
                for (int v = 0; v < VECTORS; v++) {
                    const __m256 b = bias ? _mm256_loadu_ps(bias + j + 8 * v) : _mm256_setzero_ps();
                    for (int p = 0; p < PIXELS; p++) acc[p][v] = b;
                }
                for (int ky = ky0; ky < ky1; ky++) {
                    const float *row = image + (size_t)(y0 + ky) * width * c + j;
                    const float *f = w + (size_t)ky * kernel * c + j;
                    if (interior) {   // no tap of the block in the padding: plain pointer steps
                        const float *in = row + (size_t)x0 * c;
                        for (int kx = 0; kx < kernel; kx++, in += c, f += c) {
                            __m256 wv[VECTORS];
                            for (int v = 0; v < VECTORS; v++) wv[v] = _mm256_loadu_ps(f + 8 * v);
                            for (int p = 0; p < PIXELS; p++) {
                                for (int v = 0; v < VECTORS; v++) {
                                    acc[p][v] = _mm256_fmadd_ps(_mm256_loadu_ps(in + p * step + 8 * v), wv[v], acc[p][v]);
                                }
                            }
                        }
                        continue;
                    }
                    for (int kx = 0; kx < kernel; kx++, f += c) {
                        __m256 wv[VECTORS];
                        for (int v = 0; v < VECTORS; v++) wv[v] = _mm256_loadu_ps(f + 8 * v);
                        for (int p = 0; p < PIXELS; p++) {
                            const int ix = x0 + p * stride + kx;
                            const float *in = (unsigned)ix < (unsigned)width ? row + (size_t)ix * c : zeros;
                            for (int v = 0; v < VECTORS; v++) acc[p][v] = _mm256_fmadd_ps(_mm256_loadu_ps(in + 8 * v), wv[v], acc[p][v]);
                        }
                    }
                }
                for (int p = 0; p < PIXELS; p++) {
                    for (int v = 0; v < VECTORS; v++) _mm256_storeu_ps(out + (size_t)p * c + j + 8 * v, clip_to_six(acc[p][v], clip6));
                }
            }
            for (int p = 0; p < PIXELS && blocked < c; p++) {
                pixel_from(image, w, bias, out + (size_t)p * c, blocked, c, width, kernel, y0, ky0, ky1,
                           x0 + p * stride, clip6);
            }
        }
        for (ox = out_width >= PIXELS ? out_width : 0; ox < out_width; ox++) {
            pixel_from(image, w, bias, y + (r * out_width + ox) * c, 0, c, width, kernel, y0, ky0, ky1,
                       ox * stride - left, clip6);
        }
    }
    return 1;
}

#else
int percept_depthwise_forward_nhwc(const float *x, const float *w, const float *bias, float *y,
                                   size_t row_begin, size_t row_end, int height, int width, int channels,
                                   int kernel, int stride, int top, int left, int out_height, int out_width,
                                   int clip6) {
    (void)x; (void)w; (void)bias; (void)y; (void)row_begin; (void)row_end; (void)height; (void)width; (void)channels;
    (void)kernel; (void)stride; (void)top; (void)left; (void)out_height; (void)out_width; (void)clip6;
    return 0;
}
#endif
