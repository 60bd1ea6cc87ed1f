#pragma once
// CNetworkKernels: the CNN engine's hot loops that BLAS cannot do well — a direct convolution for
// narrow layers (8…32 output channels), where im2col + GEMM is bound by memory traffic, and the
// Winograd tile transforms around the GEMMs that BLAS does for 3×3 layers.
// The Swift reference twin (ConvKernels.referenceConvolution) is the test oracle, and the
// im2col + GEMM path is the fallback on CPUs without AVX2 + FMA.
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU has AVX2 and FMA (the direct convolution can run), else 0.
int percept_network_has_avx2_fma(void);

/// What a convolution does to its sums before it stores them: adds bias[co] (when not NULL), adds
/// `addend` — a tensor laid out like the output, e.g. a residual shortcut — at the same place (when
/// not NULL), then applies `activation` (one of PERCEPT_ACTIVATION_*). Fused into the store, these
/// cost no pass over the activations of their own.
typedef struct {
    const float *bias;
    const float *addend;
    int activation;
} percept_conv_epilogue;

#define PERCEPT_ACTIVATION_NONE 0
#define PERCEPT_ACTIVATION_RELU 1
#define PERCEPT_ACTIVATION_GELU 2

/// Direct convolution over NHWC activations for images [first, first + count):
///   y[n, oy, ox, co] = Σ_{ky,kx,ci} x[n, oy·stride − pad + ky, ox·stride − pad + kx, ci] · w[ky, kx, ci, co]
/// (zero outside the image), then the epilogue. x is N×H×W×Cin, w is K×K×Cin×Cout, y is N×OH×OW×Cout.
/// Requires cout ∈ {8, 16, 24, 32} and AVX2 + FMA; returns 0 (doing nothing) otherwise, 1 when done.
int percept_conv2d_direct_nhwc(const float *x, const float *w, float *y, size_t first, size_t count,
                               int height, int width, int cin, int kernel, int stride, int pad, int cout,
                               int out_height, int out_width, percept_conv_epilogue epilogue);

// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 (winograd.c; F(4×4, 3×3) below is the
// same with 4×4 tiles). A chunk of `count` images has T = count·⌈OH/2⌉·⌈OW/2⌉ output tiles (tile
// t = (image·tilesY + ty)·tilesX + tx) and 16 transformed planes; the convolution is then
// M[ξ] = V[ξ]·U[ξ] for ξ < 16 (BLAS), and Y from M.

/// V[ξ][t][c] (16 × T × C) for tiles [tile_begin, tile_end) of images [first, first + count) of
/// x (N×H×W×C), with `pad` zeros around each image (OH = H + 2·pad − 2).
void percept_winograd_input(const float *x, size_t first, size_t count, int height, int width, int channels, int pad,
                            float *v, size_t tile_begin, size_t tile_end);

/// y[first + …] (N×OH×OW×C) from M[ξ][t][c] (16 × T × C) for tiles [tile_begin, tile_end), then
/// the epilogue; overwrites y.
void percept_winograd_output(const float *m, size_t first, size_t count, int out_height, int out_width, int channels,
                             percept_conv_epilogue epilogue, float *y, size_t tile_begin, size_t tile_end);

/// U[ξ][ci][co] (16 × Cin × Cout) from w (3×3×Cin×Cout). With flip, the filter of the input
/// gradient instead — w rotated by 180° with its channels swapped (3×3×Cout×Cin read from w, so
/// U is 16 × Cout × Cin; pass cin = Cout and cout = Cin of the layer).
void percept_winograd_weights(const float *w, int cin, int cout, int flip, float *u);

/// Ĝ[ξ][t][c] (16 × T × C): the output-gradient tiles of ∂y (N×OH×OW×C) transformed by A·∂Y·Aᵀ,
/// for the weight gradient Ŵ[ξ] = V[ξ]ᵀ·Ĝ[ξ] (V from `percept_winograd_input` of the layer's input).
void percept_winograd_output_gradient(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                      int channels, float *g, size_t tile_begin, size_t tile_end);

/// dw (3×3×Cin×Cout, overwritten) = Gᵀ·Ŵ·G from Ŵ (16 × Cin × Cout).
void percept_winograd_weight_gradient(const float *what, int cin, int cout, float *dw);

/// The same five steps for Winograd F(4×4, 3×3) (winograd_f4.c): T = count·⌈OH/4⌉·⌈OW/4⌉ tiles
/// of 6×6 inputs and 36 transformed planes (V, M, Ĝ: 36 × T × C; U, Ŵ: 36 × Cin × Cout).
void percept_winograd4_input(const float *x, size_t first, size_t count, int height, int width, int channels, int pad,
                             float *v, size_t tile_begin, size_t tile_end);
void percept_winograd4_output(const float *m, size_t first, size_t count, int out_height, int out_width, int channels,
                              percept_conv_epilogue epilogue, float *y, size_t tile_begin, size_t tile_end);
void percept_winograd4_weights(const float *w, int cin, int cout, int flip, float *u);
void percept_winograd4_output_gradient(const float *dy, size_t first, size_t count, int out_height, int out_width,
                                       int channels, float *g, size_t tile_begin, size_t tile_end);
void percept_winograd4_weight_gradient(const float *what, int cin, int cout, float *dw);

/// Depthwise convolution (depthwise.c) for output rows [row_begin, row_end) of N×OH (row r is
/// image r / OH, output row r % OH):
///   y[n, oy, ox, c] = bias[c] + Σ_{ky,kx} x[n, oy·stride − top + ky, ox·stride − left + kx, c] · w[ky, kx, c]
/// (zero outside the image; bias may be NULL), clipped to 0…6 when clip6. x is N×H×W×C, w is K×K×C,
/// y is N×OH×OW×C. Needs AVX2 + FMA: returns 0 (doing nothing) without them, 1 when done.
int percept_depthwise_forward_nhwc(const float *x, const float *w, const float *bias, float *y,
                                   size_t row_begin, size_t row_end, int height, int width, int channels,
                                   int kernel, int stride, int top, int left, int out_height, int out_width,
                                   int clip6);

#ifdef __cplusplus
}
#endif
