#pragma once
// CNetworkKernels: the CNN engine's hot loop that BLAS cannot do well — a direct convolution for
// narrow layers (8…64 output channels), where im2col + GEMM is bound by memory traffic.
// The Swift reference twin (ConvKernels.referenceConvolution) is the test oracle, and the
// im2col + GEMM path is the fallback on CPUs without AVX2 + FMA.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU has AVX2 and FMA (the direct convolution can run), else 0.
int percept_network_has_avx2_fma(void);

/// Direct convolution over NHWC activations for images [first, first + count):
///   y[n, oy, ox, co] = Σ_{ky,kx,ci} x[n, oy·stride − pad + ky, ox·stride − pad + kx, ci] · w[ky, kx, ci, co]
/// (zero outside the image; no bias). x is N×H×W×Cin, w is K×K×Cin×Cout, y is N×OH×OW×Cout.
/// Requires cout ∈ {8, 16, 24, 32, 64} and AVX2 + FMA; returns 0 (doing nothing) otherwise, 1 when done.
int percept_conv2d_direct_nhwc(const float *x, const float *w, float *y, size_t first, size_t count,
                               int height, int width, int cin, int kernel, int stride, int pad, int cout,
                               int out_height, int out_width);

#ifdef __cplusplus
}
#endif
