// Depthwise convolution forward over NHWC activations, AVX2 + FMA (see include/cnetworkkernels.h).
//
// Channel c of the output sees only channel c of the input, so the vectors run along the channels:
// for each output pixel, 32 channels at a time sit in four YMM accumulators (four independent FMA
// chains, enough to hide the FMA latency over the K² taps), then 8 at a time, then a scalar tail.
// Swift cannot ask for AVX2 in one function, hence C; DepthwiseKernels.forward is the SIMD8
// fallback and DepthwiseKernels.referenceForward the test oracle.
#include "cnetworkkernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline __m256 clip_to_six(__m256 v, int clip6) {
    return clip6 ? _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6)) : v;
}

__attribute__((target("avx2,fma")))
int percept_depthwise_forward_nhwc(const float *x, const float *w, const float *bias, float *y,
                                   size_t row_begin, size_t row_end, int height, int width, int channels,
                                   int kernel, int stride, int top, int left, int out_height, int out_width,
                                   int clip6) {
    if (!percept_network_has_avx2_fma()) return 0;
    const int c = channels;
    for (size_t r = row_begin; r < row_end; r++) {
        const float *image = x + (r / (size_t)out_height) * (size_t)height * width * c;
        const int y0 = (int)(r % (size_t)out_height) * stride - top;
        const int ky0 = y0 < 0 ? -y0 : 0, ky1 = height - y0 < kernel ? height - y0 : kernel;
        for (int ox = 0; ox < out_width; ox++) {
            const int x0 = ox * stride - left;
            const int kx0 = x0 < 0 ? -x0 : 0, kx1 = width - x0 < kernel ? width - x0 : kernel;
            float *out = y + (r * out_width + ox) * c;
            int j = 0;
            for (; j + 32 <= c; j += 32) {
                __m256 a0, a1, a2, a3;
                if (bias) {
                    a0 = _mm256_loadu_ps(bias + j); a1 = _mm256_loadu_ps(bias + j + 8);
                    a2 = _mm256_loadu_ps(bias + j + 16); a3 = _mm256_loadu_ps(bias + j + 24);
                } else {
                    a0 = a1 = a2 = a3 = _mm256_setzero_ps();
                }
                for (int ky = ky0; ky < ky1; ky++) {
                    for (int kx = kx0; kx < kx1; kx++) {
                        const float *in = image + ((size_t)(y0 + ky) * width + x0 + kx) * c + j;
                        const float *f = w + (size_t)(ky * kernel + kx) * c + j;
                        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(in), _mm256_loadu_ps(f), a0);
                        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 8), _mm256_loadu_ps(f + 8), a1);
                        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 16), _mm256_loadu_ps(f + 16), a2);
                        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 24), _mm256_loadu_ps(f + 24), a3);
                    }
                }
                _mm256_storeu_ps(out + j, clip_to_six(a0, clip6));
                _mm256_storeu_ps(out + j + 8, clip_to_six(a1, clip6));
                _mm256_storeu_ps(out + j + 16, clip_to_six(a2, clip6));
                _mm256_storeu_ps(out + j + 24, clip_to_six(a3, clip6));
            }
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
