#pragma once
// CKernels: the few hot loops Swift cannot express well (AVX2 sum of absolute differences).
// Each has a portable scalar twin; Swift tests compare both against a Swift reference.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs the AVX2 paths, 0 when the scalar fallbacks are used.
int percept_has_avx2(void);

/// Exact L1 distances between every query row and every base row of a tile:
/// out[i * nb + j] = Σ_t |queries[i * dim + t] − base[j * dim + t]|, for i < nq, j < nb.
/// Rows are packed (stride = dim). Exact for dim ≤ 16,843,009 (the sum fits a uint32).
void percept_l1_u8_block(const uint8_t *queries, size_t nq, const uint8_t *base, size_t nb,
                         size_t dim, uint32_t *out);

/// The same for rows `query_stride` and `base_stride` bytes apart, comparing their first `dim`
/// bytes: lets a caller sum rows longer than 16,843,009 bytes chunk by chunk into wider sums.
void percept_l1_u8_block_strided(const uint8_t *queries, size_t query_stride, size_t nq, const uint8_t *base,
                                 size_t base_stride, size_t nb, size_t dim, uint32_t *out);

/// The strided block on the portable scalar path (the fallback, exposed for tests).
void percept_l1_u8_block_strided_scalar(const uint8_t *queries, size_t query_stride, size_t nq, const uint8_t *base,
                                        size_t base_stride, size_t nb, size_t dim, uint32_t *out);

/// The same, always on the portable scalar path (the fallback, exposed for tests).
void percept_l1_u8_block_scalar(const uint8_t *queries, size_t nq, const uint8_t *base, size_t nb,
                                size_t dim, uint32_t *out);

/// Exact squared L2 distance between two byte rows of any length: Σ (a_t − b_t)² (AVX2 vpmaddwd
/// when available, summed in 32 bits a 64 KB chunk and in 64 bits across chunks).
uint64_t percept_l2sq_u8(const uint8_t *a, const uint8_t *b, size_t dim);

/// The same, always on the portable scalar path (the fallback, exposed for tests).
uint64_t percept_l2sq_u8_scalar(const uint8_t *a, const uint8_t *b, size_t dim);

/// Converts `count` bytes to floats (0…255).
void percept_u8_to_float(const uint8_t *source, size_t count, float *destination);

#ifdef __cplusplus
}
#endif
