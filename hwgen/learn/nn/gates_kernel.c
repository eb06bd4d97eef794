/* Relaxed two-input gates on feature-major float32 rows: y = c0 + c1*a + c2*b + c3*a*b, where row o reads
   rows a = x[ia[o]] and b = x[ib[o]] of `batch` samples. One pass over the data each way; rows are
   independent, so they are split over threads, and every sum runs in one thread.

   The same numbers on any x86-64 processor: built without -march=native and without fused multiply-adds
   (-ffp-contract=off), each function in a plain and an AVX2 version picked at run time (VECTOR), and every
   sum over the batch kept in LANES partial sums added in a fixed order, so that its rounding does not
   depend on how wide the processor's vectors are. */
#include <stdint.h>

#if !defined(VECTOR) && defined(__x86_64__) && defined(__GNUC__)
#define VECTOR __attribute__((target_clones("avx2", "default")))
#elif !defined(VECTOR)
#define VECTOR
#endif
#define LANES 8

static inline float lane_total(const float *s) {
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

VECTOR void hwgen_gates_forward(const float *x, int64_t batch, const int64_t *ia, const int64_t *ib,
                         const float *c, int64_t out, float *y, int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < out; o++) {
        const float *a = x + ia[o] * batch, *b = x + ib[o] * batch;
        const float c0 = c[4 * o], c1 = c[4 * o + 1], c2 = c[4 * o + 2], c3 = c[4 * o + 3];
        float *r = y + o * batch;
        #pragma omp simd
        for (int64_t k = 0; k < batch; k++) r[k] = c0 + c1 * a[k] + c2 * b[k] + c3 * a[k] * b[k];
    }
}

/* The gradients: dc[o] = sums over the batch of g, g*a, g*b, g*a*b; da = g*(c1 + c3*b), db = g*(c2 + c3*a)
   (the caller adds da and db into the rows of x they were read from). */
VECTOR void hwgen_gates_backward(const float *x, int64_t batch, const int64_t *ia, const int64_t *ib,
                                 const float *c, int64_t out, const float *g, float *dc, float *da, float *db,
                                 int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < out; o++) {
        const float *a = x + ia[o] * batch, *b = x + ib[o] * batch, *go = g + o * batch;
        const float c1 = c[4 * o + 1], c2 = c[4 * o + 2], c3 = c[4 * o + 3];
        float *dao = da + o * batch, *dbo = db + o * batch;
        float s0[LANES] = {0}, s1[LANES] = {0}, s2[LANES] = {0}, s3[LANES] = {0};
        for (int64_t k0 = 0; k0 < batch; k0 += LANES) {
            const int64_t n = batch - k0 < LANES ? batch - k0 : LANES;
            for (int64_t l = 0; l < n; l++) {
                const int64_t k = k0 + l;
                const float gk = go[k], ga = gk * a[k];
                s0[l] += gk;
                s1[l] += ga;
                s2[l] += gk * b[k];
                s3[l] += ga * b[k];
                dao[k] = gk * (c1 + c3 * b[k]);
                dbo[k] = gk * c2 + c3 * ga;
            }
        }
        dc[4 * o] = lane_total(s0);
        dc[4 * o + 1] = lane_total(s1);
        dc[4 * o + 2] = lane_total(s2);
        dc[4 * o + 3] = lane_total(s3);
    }
}

/* Learned wiring: row r of m mixes `choices` candidate rows of x, m[r] = sum_j p[r,j] * x[cand[r,j]]. */
VECTOR void hwgen_mix_forward(const float *x, int64_t batch, const int64_t *cand, const float *p, int64_t rows,
                       int64_t choices, float *m, int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < rows; r++) {
        float *mr = m + r * batch;
        for (int64_t k = 0; k < batch; k++) mr[k] = 0;
        for (int64_t j = 0; j < choices; j++) {
            const float pj = p[r * choices + j], *xj = x + cand[r * choices + j] * batch;
            #pragma omp simd
            for (int64_t k = 0; k < batch; k++) mr[k] += pj * xj[k];
        }
    }
}

/* dp[r,j] = sum over the batch of g[r] * x[cand[r,j]], and dx[cand[r,j]] += p[r,j] * g[r] (dx zeroed by the
   caller). Candidates of different rows share rows of dx, so the scatter splits the batch columns, not the
   rows, over threads: no two threads write the same number, and every sum keeps its order. */
VECTOR void hwgen_mix_backward(const float *x, int64_t batch, const int64_t *cand, const float *p, int64_t rows,
                               int64_t choices, const float *g, float *dp, float *dx, int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = g + r * batch;
        for (int64_t j = 0; j < choices; j++) {
            const float *xj = x + cand[r * choices + j] * batch;
            float s[LANES] = {0};
            for (int64_t k0 = 0; k0 < batch; k0 += LANES) {
                const int64_t n = batch - k0 < LANES ? batch - k0 : LANES;
                for (int64_t l = 0; l < n; l++) s[l] += gr[k0 + l] * xj[k0 + l];
            }
            dp[r * choices + j] = lane_total(s);
        }
    }
    const int64_t block = (batch + threads - 1) / threads;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int t = 0; t < threads; t++) {
        const int64_t lo = t * block, hi = lo + block < batch ? lo + block : batch;
        for (int64_t r = 0; r < rows; r++) {
            const float *gr = g + r * batch;
            for (int64_t j = 0; j < choices; j++) {
                const float pj = p[r * choices + j];
                float *dxj = dx + cand[r * choices + j] * batch;
                #pragma omp simd
                for (int64_t k = lo; k < hi; k++) dxj[k] += pj * gr[k];
            }
        }
    }
}
