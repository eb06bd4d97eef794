/* Relaxed two-input gates on feature-major float32 rows: y = c0 + c1*a + c2*b + c3*a*b, where row o reads
   rows a = x[ia[o]] and b = x[ib[o]] of `batch` samples. One pass over the data each way; rows are
   independent, so they are split over threads, and every sum runs in one thread (deterministic). */
#include <stdint.h>

void hwgen_gates_forward(const float *x, int64_t batch, const int64_t *ia, const int64_t *ib,
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
void hwgen_gates_backward(const float *x, int64_t batch, const int64_t *ia, const int64_t *ib,
                          const float *c, int64_t out, const float *g, float *dc, float *da, float *db,
                          int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < out; o++) {
        const float *a = x + ia[o] * batch, *b = x + ib[o] * batch, *go = g + o * batch;
        const float c1 = c[4 * o + 1], c2 = c[4 * o + 2], c3 = c[4 * o + 3];
        float *dao = da + o * batch, *dbo = db + o * batch;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        #pragma omp simd reduction(+:s0, s1, s2, s3)
        for (int64_t k = 0; k < batch; k++) {
            const float gk = go[k], ga = gk * a[k];
            s0 += gk;
            s1 += ga;
            s2 += gk * b[k];
            s3 += ga * b[k];
            dao[k] = gk * (c1 + c3 * b[k]);
            dbo[k] = gk * c2 + c3 * ga;
        }
        dc[4 * o] = s0;
        dc[4 * o + 1] = s1;
        dc[4 * o + 2] = s2;
        dc[4 * o + 3] = s3;
    }
}

/* Learned wiring: row r of m mixes `choices` candidate rows of x, m[r] = sum_j p[r,j] * x[cand[r,j]]. */
void hwgen_mix_forward(const float *x, int64_t batch, const int64_t *cand, const float *p, int64_t rows,
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
void hwgen_mix_backward(const float *x, int64_t batch, const int64_t *cand, const float *p, int64_t rows,
                        int64_t choices, const float *g, float *dp, float *dx, int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = g + r * batch;
        for (int64_t j = 0; j < choices; j++) {
            const float *xj = x + cand[r * choices + j] * batch;
            float s = 0;
            #pragma omp simd reduction(+:s)
            for (int64_t k = 0; k < batch; k++) s += gr[k] * xj[k];
            dp[r * choices + j] = s;
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
