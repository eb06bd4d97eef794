/* k-input lookup-table nodes (Bacellar et al., "Differentiable Weightless Neural Networks", 2024), on
   feature-major float32 rows of `batch` samples. Forward: node o reads the bits x[idx[j][o]] > 0.5 as the
   address sum_j bit_j 2^j and outputs 1 where its table entry there is positive. Backward: the table
   entry at that address gets the output gradient, and input j gets the extended finite difference
   D[j][address] = sum over addresses a2 of (+1 if bit j of a2 else -1) * T[a2] * alpha * beta^d, where d
   counts the other bits in which a2 and the address differ; an input row's gradient sums those of the
   node inputs that read it. Work is split over threads by nodes or by blocks of the batch, and every sum
   runs in one thread in a fixed order, the same on any x86-64 processor and any thread count (see
   gates_kernel.c: no fused multiply-adds, a plain and an AVX2 version, LANES partial sums). */
#include <stdint.h>

#if !defined(VECTOR) && defined(__x86_64__) && defined(__GNUC__)
#define VECTOR __attribute__((target_clones("avx2", "default")))
#elif !defined(VECTOR)
#define VECTOR
#endif
#define MAX_K 6  /* must equal hwgen.netlist.MAX_LUT_INPUTS (tests/test_layout.py checks) */
#define LANES 8

/* The batch is cut into blocks of BLOCK samples, and the work into (block, share) pieces: a block of every
   input row stays in cache while the nodes read it, and a batch of one block still spreads over the threads.
   Every output value is computed by one piece in a fixed order, so the cut changes no number. */
#define BLOCK 1024

static inline int64_t blocks_of(int64_t batch) { return (batch + BLOCK - 1) / BLOCK; }

/* Shares that each block's work is split into: enough pieces for every thread. */
static inline int64_t shares_of(int64_t batch, int64_t units, int threads) {
    const int64_t blocks = blocks_of(batch);
    int64_t shares = blocks >= threads ? 1 : (threads + blocks - 1) / blocks;
    return shares < units ? shares : (units > 0 ? units : 1);
}

VECTOR void hwgen_lut_forward(const float *x, int64_t batch, const int64_t *idx, int64_t k, const float *tables,
                       int64_t out, float *y, uint8_t *addr, int threads) {
    const int64_t blocks = blocks_of(batch), shares = shares_of(batch, out, threads);
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t piece = 0; piece < blocks * shares; piece++) {
        const int64_t b0 = piece / shares * BLOCK, n = batch - b0 < BLOCK ? batch - b0 : BLOCK;
        const int64_t share = piece % shares;
        for (int64_t o = out * share / shares; o < out * (share + 1) / shares; o++) {
            uint8_t *ao = addr + o * batch + b0;
            for (int64_t b = 0; b < n; b++) ao[b] = 0;
            for (int64_t j = 0; j < k; j++) {
                const float *xj = x + idx[j * out + o] * batch + b0;
                for (int64_t b = 0; b < n; b++) ao[b] |= (uint8_t)((xj[b] > 0.5f) << j);
            }
            const float *t = tables + (o << k);
            uint64_t ones = 0;  /* bit a: the node outputs 1 at address a (a shift, where a lookup would not vectorise) */
            for (int64_t a = 0; a < ((int64_t)1 << k); a++) ones |= (uint64_t)(t[a] > 0.0f) << a;
            float *yo = y + o * batch + b0;
            for (int64_t b = 0; b < n; b++) yo[b] = (float)((ones >> ao[b]) & 1);
        }
    }
}

/* gtables (out, 2^k): the table gradients, each a sum over the batch in order; diff (out, k, 2^k): each
   node's extended finite differences, for the input gradients below. */
VECTOR void hwgen_lut_table_grad(const float *g, const uint8_t *addr, int64_t batch, int64_t k, const float *tables,
                                 int64_t out, float alpha, float beta, float *gtables, float *diff, int threads) {
    const int64_t size = (int64_t)1 << k;
    float power[MAX_K + 1];
    power[0] = alpha;
    for (int d = 1; d <= MAX_K; d++) power[d] = power[d - 1] * beta;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < out; o++) {
        const float *t = tables + o * size;
        const float *go = g + o * batch;
        const uint8_t *ao = addr + o * batch;
        float *gt = gtables + o * size;
        for (int64_t a = 0; a < size; a++) gt[a] = 0.0f;
        for (int64_t b = 0; b < batch; b++) gt[ao[b]] += go[b];
        for (int64_t j = 0; j < k; j++) {
            const int64_t others = ~((int64_t)1 << j);
            for (int64_t a = 0; a < size; a++) {
                float s = 0.0f;
                for (int64_t a2 = 0; a2 < size; a2++) {
                    const float term = t[a2] * power[__builtin_popcountll((a ^ a2) & others)];
                    s += (a2 >> j) & 1 ? term : -term;
                }
                diff[(o * k + j) * size + a] = s;
            }
        }
    }
}

/* gslot (k, out, batch): the gradient of each node input, gslot[j][o][b] = diff[o][j][address] * g[o][b]. */
VECTOR void hwgen_lut_slot_grad(const float *g, const uint8_t *addr, int64_t batch, int64_t k, const float *diff,
                                int64_t out, float *gslot, int threads) {
    const int64_t size = (int64_t)1 << k;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < out; o++) {
        const float *go = g + o * batch;
        const uint8_t *ao = addr + o * batch;
        for (int64_t j = 0; j < k; j++) {
            const float *d = diff + (o * k + j) * size;
            float *gj = gslot + (j * out + o) * batch;
            for (int64_t b = 0; b < batch; b++) gj[b] = d[ao[b]] * go[b];
        }
    }
}

/* gx (rows, batch): each input row's gradient, the sum of gslot over the node inputs that read it, taken
   in the order of idx (input j of node o at j * out + o), the order of index_add_ over gslot's rows; each
   piece writes its own rows of its own block, without the (k, out, batch) gslot in memory. */
VECTOR void hwgen_lut_input_grad(const float *g, const uint8_t *addr, int64_t batch, const int64_t *idx, int64_t k,
                                 const float *diff, int64_t out, int64_t rows, float *gx, int threads) {
    const int64_t size = (int64_t)1 << k, blocks = blocks_of(batch), shares = shares_of(batch, rows, threads);
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t piece = 0; piece < blocks * shares; piece++) {
        const int64_t b0 = piece / shares * BLOCK, n = batch - b0 < BLOCK ? batch - b0 : BLOCK;
        const int64_t share = piece % shares, r0 = rows * share / shares, r1 = rows * (share + 1) / shares;
        for (int64_t r = r0; r < r1; r++)
            for (int64_t b = 0; b < n; b++) gx[r * batch + b0 + b] = 0.0f;
        for (int64_t p = 0; p < k * out; p++) {
            const int64_t r = idx[p], j = p / out, o = p % out;
            if (r < r0 || r >= r1) continue;
            const float *d = diff + (o * k + j) * size;
            const float *go = g + o * batch + b0;
            const uint8_t *ao = addr + o * batch + b0;
            float *gr = gx + r * batch + b0;
            for (int64_t b = 0; b < n; b++) gr[b] += d[ao[b]] * go[b];
        }
    }
}

/* A learned input's candidate scores: gw[r][c] = sum over the batch of (2 x[cand[r][c]] - 1) * gslot[r], the
   correlation of candidate c (as +-1) with the gradient of input r (r runs over the k * out inputs). */
static inline float lane_total(const float *s) {
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static inline float dot(const float *u, const float *v, int64_t n) {  /* in LANES partial sums */
    float s[LANES] = {0};
    for (int64_t k0 = 0; k0 < n; k0 += LANES) {
        const int64_t m = n - k0 < LANES ? n - k0 : LANES;
        for (int64_t l = 0; l < m; l++) s[l] += u[k0 + l] * v[k0 + l];
    }
    return lane_total(s);
}

VECTOR void hwgen_lut_mapping_grad(const float *x, int64_t batch, const int64_t *cand, int64_t choices,
                                   const float *gslot, int64_t rows, float *gw, int threads) {
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = gslot + r * batch;
        float total[LANES] = {0};
        for (int64_t k0 = 0; k0 < batch; k0 += LANES) {
            const int64_t m = batch - k0 < LANES ? batch - k0 : LANES;
            for (int64_t l = 0; l < m; l++) total[l] += gr[k0 + l];
        }
        const float sum = lane_total(total);
        for (int64_t c = 0; c < choices; c++)
            gw[r * choices + c] = 2.0f * dot(x + cand[r * choices + c] * batch, gr, batch) - sum;
    }
}
