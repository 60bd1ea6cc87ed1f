// The linear classifier's two minibatch products on raw pixel bytes (see linear_u8.h).
//
// Shapes: x is N×D bytes (a batch inside the training pixels), w is C×D, scores and g are N×C, dw is C×D.
// Bytes are widened to floats in registers, so a CIFAR batch streams 0.6 MB instead of 2.4 MB of
// Floats and is still in cache (L2/L3) for the second pass.
// Forward: two rows × five classes per pass (10 FMA accumulators), each weight load shared by two rows.
// Gradient: a 5-class × 16-column block of dW kept in registers over all rows, stored once.
// Measured here (EPYC, one core, N = 200, D = 3072, C = 10, CPU time, batch from DRAM, machine shared):
// forward ~185–200 µs, gradient ~190–200 µs, i.e. 61–66 GFLOP/s each, about two thirds of the core's
// measured FMA peak (~100 GFLOP/s; 92 with sgemm); the previous 2×4 / 4×16 tiling took ~280 and ~290 µs.
// Swapping the conversion for the 2^23 float trick, packing W, k-blocking, or prefetching in the
// gradient did not help. Two threads (the team below, idle machine): 3,000 steps in 0.65 s vs 1.31 s.
#include "linear_u8.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
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

#define PERCEPT_AVX2 __attribute__((target("avx2,fma")))
#define PERCEPT_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

PERCEPT_AVX2_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Eight bytes as eight floats.
PERCEPT_AVX2_INLINE __m256 load8(const uint8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

// Forward tile: RB rows × CB classes (RB, CB compile-time after inlining), columns [0, d8), written
// as bias + sum. RB·CB accumulators plus RB converted rows and one weight vector fit the 16 registers.
enum { FORWARD_ROWS = 2, FORWARD_CLASSES = 5, PREFETCH_AHEAD = 256 };

PERCEPT_AVX2_INLINE void forward_tile(const uint8_t *x, size_t d, size_t d8, const float *w, const float *bias,
                                      size_t c, float *out, const int RB, const int CB) {
    __m256 acc[FORWARD_ROWS][FORWARD_CLASSES];
    for (int r = 0; r < RB; r++) for (int q = 0; q < CB; q++) acc[r][q] = _mm256_setzero_ps();
    for (size_t k = 0; k < d8; k += 8) {
        // The rows come from DRAM on the first pass; the hardware prefetcher alone lags two interleaved
        // row streams (measured: ~25% faster with this, one prefetch per cache line).
        if ((k & 56) == 0) for (int r = 0; r < RB; r++) _mm_prefetch((const char *)(x + r * d + k + PREFETCH_AHEAD), _MM_HINT_T0);
        __m256 u[FORWARD_ROWS];
        for (int r = 0; r < RB; r++) u[r] = load8(x + r * d + k);
        for (int q = 0; q < CB; q++) {
            const __m256 t = _mm256_loadu_ps(w + q * d + k);
            for (int r = 0; r < RB; r++) acc[r][q] = _mm256_fmadd_ps(t, u[r], acc[r][q]);
        }
    }
    for (int r = 0; r < RB; r++) {
        for (int q = 0; q < CB; q++) {
            float sum = hsum(acc[r][q]);
            for (size_t k = d8; k < d; k++) sum += (float)x[r * d + k] * w[q * d + k];
            out[r * c + q] = bias[q] + sum;
        }
    }
}

PERCEPT_AVX2
static void rows_avx2(const uint8_t *x, size_t row_begin, size_t row_end, size_t d,
                      const float *w, const float *bias, size_t c, float *scores) {
    // Five classes at a time (two passes for CIFAR's ten), two rows sharing each weight load; W's
    // five rows (60 KB for CIFAR) stay in L2 across the batch.
    const size_t d8 = d & ~(size_t)7;
    for (size_t j = 0; j < c; j += FORWARD_CLASSES) {
        const size_t cb = c - j < FORWARD_CLASSES ? c - j : FORWARD_CLASSES;
        const float *wj = w + j * d, *bj = bias + j;
        size_t i = row_begin;
        if (cb == FORWARD_CLASSES) {
            for (; i + FORWARD_ROWS <= row_end; i += FORWARD_ROWS)
                forward_tile(x + i * d, d, d8, wj, bj, c, scores + i * c + j, FORWARD_ROWS, FORWARD_CLASSES);
        }
        for (; i < row_end; i++) {
            const uint8_t *xi = x + i * d;
            float *o = scores + i * c + j;
            switch (cb) {
            case 1: forward_tile(xi, d, d8, wj, bj, c, o, 1, 1); break;
            case 2: forward_tile(xi, d, d8, wj, bj, c, o, 1, 2); break;
            case 3: forward_tile(xi, d, d8, wj, bj, c, o, 1, 3); break;
            case 4: forward_tile(xi, d, d8, wj, bj, c, o, 1, 4); break;
            default: forward_tile(xi, d, d8, wj, bj, c, o, 1, 5); break;
            }
        }
    }
}

// Gradient tile: CB classes × NV·8 columns of dW in registers over every row, stored once.
enum { GRADIENT_CLASSES = 5, GRADIENT_VECTORS = 2 };

PERCEPT_AVX2_INLINE void gradient_tile(const float *g, const uint8_t *x, size_t n, size_t d, size_t c, size_t k,
                                       float *dw, const int CB, const int NV) {
    __m256 acc[GRADIENT_CLASSES][GRADIENT_VECTORS];
    for (int q = 0; q < CB; q++) for (int v = 0; v < NV; v++) acc[q][v] = _mm256_setzero_ps();
    const uint8_t *xi = x + k;
    for (size_t i = 0; i < n; i++, xi += d, g += c) {
        __m256 u[GRADIENT_VECTORS];
        for (int v = 0; v < NV; v++) u[v] = load8(xi + 8 * v);
        for (int q = 0; q < CB; q++) {
            const __m256 t = _mm256_broadcast_ss(g + q);
            for (int v = 0; v < NV; v++) acc[q][v] = _mm256_fmadd_ps(t, u[v], acc[q][v]);
        }
    }
    for (int q = 0; q < CB; q++) for (int v = 0; v < NV; v++) _mm256_storeu_ps(dw + q * d + k + 8 * v, acc[q][v]);
}

PERCEPT_AVX2
static void gradient_avx2(const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                          size_t k_begin, size_t k_end, float *dw) {
    // Sixteen columns × five classes: ten independent FMA chains per row, each row's 16 bytes from
    // L1 (a strip's 200 cache lines serve four strips) and converted once per five classes.
    size_t k = k_begin;
    for (; k + 8 * GRADIENT_VECTORS <= k_end; k += 8 * GRADIENT_VECTORS) {
        size_t j = 0;
        for (; j + GRADIENT_CLASSES <= c; j += GRADIENT_CLASSES)
            gradient_tile(g + j, x, n, d, c, k, dw + j * d, GRADIENT_CLASSES, GRADIENT_VECTORS);
        for (; j < c; j++) gradient_tile(g + j, x, n, d, c, k, dw + j * d, 1, GRADIENT_VECTORS);
    }
    for (; k + 8 <= k_end; k += 8) {
        for (size_t j = 0; j < c; j++) gradient_tile(g + j, x, n, d, c, k, dw + j * d, 1, 1);
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

double percept_fold_weights(const float *w, const float *factor, const float *offset, size_t c, size_t d,
                            float *folded, float *shifts) {
    // Eight explicit lanes so the compiler vectorises the sums without reassociating (no fast-math).
    double squares = 0;
    const size_t d8 = d & ~(size_t)7;
    for (size_t j = 0; j < c; j++) {
        const float *wj = w + j * d;
        float *fj = folded + j * d;
        float shift[8] = {0}, square[8] = {0};
        for (size_t k = 0; k < d8; k += 8) {
            for (size_t l = 0; l < 8; l++) {
                const float v = wj[k + l];
                fj[k + l] = v * factor[k + l];
                shift[l] += v * offset[k + l];
                square[l] += v * v;
            }
        }
        float s = 0, q = 0;
        for (size_t k = d8; k < d; k++) { fj[k] = wj[k] * factor[k]; s += wj[k] * offset[k]; q += wj[k] * wj[k]; }
        for (size_t l = 0; l < 8; l++) { s += shift[l]; q += square[l]; }
        shifts[j] = s;
        squares += q;
    }
    return squares;
}

void percept_unfold_weight_gradient(float *dw, const float *factor, const float *offset, const float *dbias,
                                    const float *w, float reg2, size_t c, size_t d, size_t k_begin, size_t k_end) {
    for (size_t j = 0; j < c; j++) {
        float *o = dw + j * d;
        const float *wj = w + j * d, db = dbias[j];
        for (size_t k = k_begin; k < k_end; k++) o[k] = o[k] * factor[k] - db * offset[k] + reg2 * wj[k];
    }
}

// ---- A small team of helper threads for one fit's steps ----
// A step is ~0.4 ms of kernel work; waking a pool thread per call (DispatchQueue.concurrentPerform)
// took about as long as the half it saved, so two threads were no faster than one. Helpers here
// spin briefly between jobs (the loss between the two kernels takes microseconds), then sleep.
// Parts are claimed from a shared ticket, so a helper that the OS has not scheduled yet leaves
// its part to the caller instead of stalling the step.

enum { TEAM_MAX_HELPERS = 15, TEAM_SPINS = 4000, PARTS_PER_THREAD = 2 };

struct percept_linear_team {
    pthread_t threads[TEAM_MAX_HELPERS];
    size_t helpers;
    _Atomic uint64_t ticket;          // generation << 32 | next part
    _Atomic size_t done;              // parts finished in this generation
    _Atomic size_t parts;
    void (*_Atomic job)(void *context, size_t part);
    void *_Atomic context;
    _Atomic int stop;
    uint32_t generation;              // the caller's only
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int sleepers;
};

static inline void team_pause(void) {
#ifdef PERCEPT_LINEAR_X86
    _mm_pause();
#endif
}

/// Claims and runs parts of generation `generation` until none is left.
static void team_work(percept_linear_team *t, uint32_t generation) {
    for (;;) {
        uint64_t ticket = atomic_load_explicit(&t->ticket, memory_order_acquire);
        if ((uint32_t)(ticket >> 32) != generation) return;
        const size_t part = (size_t)(ticket & 0xffffffffu);
        if (part >= atomic_load_explicit(&t->parts, memory_order_relaxed)) return;
        if (!atomic_compare_exchange_weak_explicit(&t->ticket, &ticket, ticket + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        // The caller waits for this part, so job and context are still this generation's.
        atomic_load_explicit(&t->job, memory_order_relaxed)(atomic_load_explicit(&t->context, memory_order_relaxed), part);
        atomic_fetch_add_explicit(&t->done, 1, memory_order_release);
    }
}

static void *team_helper(void *argument) {
    percept_linear_team *t = argument;
    uint32_t seen = 0;
    for (;;) {
        uint32_t generation;
        int spins = 0;
        while ((generation = (uint32_t)(atomic_load_explicit(&t->ticket, memory_order_acquire) >> 32)) == seen) {
            if (++spins < TEAM_SPINS) { team_pause(); continue; }
            pthread_mutex_lock(&t->lock);
            t->sleepers++;
            while ((uint32_t)(atomic_load_explicit(&t->ticket, memory_order_acquire) >> 32) == seen) pthread_cond_wait(&t->wake, &t->lock);
            t->sleepers--;
            pthread_mutex_unlock(&t->lock);
            spins = 0;
        }
        seen = generation;
        if (atomic_load_explicit(&t->stop, memory_order_acquire)) return NULL;
        team_work(t, generation);
    }
}

percept_linear_team *percept_linear_team_create(size_t threads) {
    if (threads < 2) return NULL;
    percept_linear_team *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    const size_t wanted = threads - 1 < TEAM_MAX_HELPERS ? threads - 1 : TEAM_MAX_HELPERS;
    for (size_t i = 0; i < wanted; i++) {
        if (pthread_create(&t->threads[i], NULL, team_helper, t) != 0) break;
        t->helpers++;
    }
    if (t->helpers == 0) {  // no threads to be had: run single-threaded
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        free(t);
        return NULL;
    }
    return t;
}

static void team_publish(percept_linear_team *t) {
    pthread_mutex_lock(&t->lock);
    atomic_store_explicit(&t->ticket, (uint64_t)t->generation << 32, memory_order_release);
    if (t->sleepers) pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void percept_linear_team_destroy(percept_linear_team *t) {
    if (!t) return;
    atomic_store_explicit(&t->stop, 1, memory_order_release);
    atomic_store_explicit(&t->parts, 0, memory_order_relaxed);
    t->generation++;
    team_publish(t);
    for (size_t i = 0; i < t->helpers; i++) pthread_join(t->threads[i], NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}

size_t percept_linear_team_threads(const percept_linear_team *t) { return t ? t->helpers + 1 : 1; }

/// Runs job(context, p) for p in [0, parts) on the caller and the helpers; returns when all are done.
static void team_run(percept_linear_team *t, size_t parts, void (*job)(void *, size_t), void *context) {
    if (!t) {
        for (size_t p = 0; p < parts; p++) job(context, p);
        return;
    }
    atomic_store_explicit(&t->job, job, memory_order_relaxed);
    atomic_store_explicit(&t->context, context, memory_order_relaxed);
    atomic_store_explicit(&t->parts, parts, memory_order_relaxed);
    atomic_store_explicit(&t->done, 0, memory_order_relaxed);
    t->generation++;
    team_publish(t);
    team_work(t, t->generation);
    int spins = 0;
    while (atomic_load_explicit(&t->done, memory_order_acquire) < parts) {
        if (++spins < TEAM_SPINS) team_pause();
        else sched_yield();  // a helper preempted mid-part: let it run
    }
}

typedef struct {
    const uint8_t *x;
    size_t n, d, c, parts;
    const float *w, *bias;
    float *scores;
} forward_job;

static void forward_part(void *context, size_t part) {
    const forward_job *j = context;
    const size_t begin = j->n * part / j->parts, end = j->n * (part + 1) / j->parts;
    if (begin < end) percept_affine_rows_u8(j->x, begin, end, j->d, j->w, j->bias, j->c, j->scores);
}

void percept_linear_forward_u8(percept_linear_team *team, const uint8_t *x, size_t n, size_t d,
                               const float *w, const float *bias, size_t c, float *scores) {
    // Two parts a thread, so a thread the OS preempts mid-step holds up less (the others take the
    // rest); below 32 rows a part is too small to pay for the hand-over.
    size_t parts = PARTS_PER_THREAD * percept_linear_team_threads(team);
    if (parts > n / 32) parts = n / 32 > 0 ? n / 32 : 1;
    forward_job job = {x, n, d, c, parts, w, bias, scores};
    team_run(team, parts, forward_part, &job);
}

typedef struct {
    const float *g, *factor, *offset, *dbias, *w;
    const uint8_t *x;
    size_t n, d, c, parts;
    float reg2;
    float *dw;
} backward_job;

static void backward_part(void *context, size_t part) {
    const backward_job *j = context;
    // Column blocks in whole 16-column tiles; the last part takes the tail.
    const size_t tiles = j->d / 16;
    const size_t begin = tiles * part / j->parts * 16, end = part + 1 == j->parts ? j->d : tiles * (part + 1) / j->parts * 16;
    if (begin >= end) return;
    percept_affine_weight_gradient_u8(j->g, j->x, j->n, j->d, j->c, begin, end, j->dw);
    percept_unfold_weight_gradient(j->dw, j->factor, j->offset, j->dbias, j->w, j->reg2, j->c, j->d, begin, end);
}

void percept_linear_backward_u8(percept_linear_team *team, const float *g, const uint8_t *x, size_t n, size_t d, size_t c,
                                const float *factor, const float *offset, const float *dbias, const float *w, float reg2,
                                float *dw) {
    size_t parts = PARTS_PER_THREAD * percept_linear_team_threads(team);
    if (parts > d / 256) parts = d / 256 > 0 ? d / 256 : 1;
    backward_job job = {g, factor, offset, dbias, w, x, n, d, c, parts, reg2, dw};
    team_run(team, parts, backward_part, &job);
}
