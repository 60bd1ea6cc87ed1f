#pragma once
// The linear classifier's minibatch step on raw pixel bytes (N rows × D bytes, C ≤ ~32 classes):
// the preprocessing (x/255 − offset)·scale is folded into the weights by the caller, so each batch
// streams a quarter of the memory Float features would. AVX2+FMA paths with portable scalar twins
// (selected at run time); Swift tests compare both with a Swift Float reference.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// scores[i * c + j] = bias[j] + Σ_k x[i * d + k] · w[j * d + k], for rows i in [row_begin, row_end).
void percept_affine_rows_u8(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                            const float *w, const float *bias, size_t c, float *scores);

/// dw[j * d + k] = Σ_{i < n} g[i * c + j] · x[i * d + k], for columns k in [k_begin, k_end) (overwrites them).
void percept_affine_weight_gradient_u8(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                       size_t k_begin, size_t k_end, float *dw);

/// The preprocessing fold of one step (portable C, vectorised by the compiler): folded = w⊙factor row by row,
/// shifts[j] = Σ_k w[j·d + k]·offset[k]; returns Σ w² (the L2 penalty, without a BLAS call whose idle threads
/// spin on the second core).
double percept_fold_weights(const float *w, const float *factor, const float *offset, size_t c, size_t d,
                            float *folded, float *shifts);

/// Back from byte space, plus the L2 gradient, for columns [k_begin, k_end):
/// dw[j·d + k] = dw[j·d + k]·factor[k] − dbias[j]·offset[k] + reg2·w[j·d + k].
void percept_unfold_weight_gradient(float *dw, const float *factor, const float *offset, const float *dbias,
                                    const float *w, float reg2, size_t c, size_t d, size_t k_begin, size_t k_end);

/// Helper threads for one fit (threads − 1 of them; NULL when threads < 2 or none could start — every
/// function below then runs on the caller alone). They spin briefly between jobs, then sleep.
typedef struct percept_linear_team percept_linear_team;
percept_linear_team *percept_linear_team_create(size_t threads);
void percept_linear_team_destroy(percept_linear_team *team);
size_t percept_linear_team_threads(const percept_linear_team *team);

/// percept_affine_rows_u8 for rows [0, n), split by rows over the team.
void percept_linear_forward_u8(percept_linear_team *team, const uint8_t *x, size_t n, size_t d,
                               const float *w, const float *bias, size_t c, float *scores);

/// percept_affine_weight_gradient_u8 then percept_unfold_weight_gradient for all columns, split by columns.
void percept_linear_backward_u8(percept_linear_team *team, const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                const float *factor, const float *offset, const float *dbias, const float *w, float reg2,
                                float *dw);

/// The scalar twins (the fallbacks, exposed for tests).
void percept_affine_rows_u8_scalar(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                                   const float *w, const float *bias, size_t c, float *scores);
void percept_affine_weight_gradient_u8_scalar(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                              size_t k_begin, size_t k_end, float *dw);

#ifdef __cplusplus
}
#endif
