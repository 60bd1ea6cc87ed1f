#pragma once
// The epilogue's activations (include/cnetworkkernels.h), shared by the direct and Winograd kernels.
// GELU(x) = ½x(1 + erf(x/√2)) with erf as Swift's ActivationKernels.fastErf (Eigen's single-precision
// rational approximation on x clamped to ±4), so fused and separate GELU agree to rounding.
#include "cnetworkkernels.h"

static inline float percept_erf(float value) {
    float x = value < -4.0f ? -4.0f : (value > 4.0f ? 4.0f : value), x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p *= x;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

static inline float percept_activate(float x, int activation) {
    switch (activation) {
    case PERCEPT_ACTIVATION_RELU: return x < 0 ? 0.0f : x;
    case PERCEPT_ACTIVATION_GELU: return 0.5f * x * (1.0f + percept_erf(x * 0.70710678118654752f));
    default: return x;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline __m256 percept_erf_avx2(__m256 value) {
    __m256 x = _mm256_min_ps(_mm256_max_ps(value, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
    return _mm256_div_ps(p, q);
}

__attribute__((target("avx2,fma"))) static inline __m256 percept_activate_avx2(__m256 x, int activation) {
    switch (activation) {
    case PERCEPT_ACTIVATION_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case PERCEPT_ACTIVATION_GELU: {
        __m256 e = percept_erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    default: return x;
    }
}
#endif
