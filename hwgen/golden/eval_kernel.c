/* Bit-parallel netlist evaluation, from bool input rows to class scores.
 *
 * The netlist arrives as a program (hwgen/kernel.py): instructions in level order, sorted by op within a
 * level so the dispatch below is predicted, each writing a slot of a small value store that is reused once
 * the last reader of its value has run. Samples go through in blocks of W 64-bit words (64*W samples);
 * W is chosen (hwgen/kernel.py) so that a block's live values stay in cache, and each instruction's loop over
 * the block is a plain array expression that the compiler vectorises. Blocks are shared among OpenMP
 * threads, each with a store of its own, and every block is computed the same way whatever thread runs
 * it, so the scores do not depend on the thread count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#define GATE(expr) \
    for (int64_t w = 0; w < W; w++) { const uint64_t a = x[w], b = y[w]; (void)a; (void)b; z[w] = (expr); } \
    break

/* A LUT node (op 16): its k inputs' slots (slots[0..5], -1 past k) and table. Its value is worked out in
 * registers, one word at a time: each group of 16 entries is a tree of multiplexers over inputs 0..3 (the
 * entries are constants, so the first level, on input 0, is one AND and one XOR per pair), and inputs 4
 * and 5 choose among the groups. Past k, input 0 stands in for the missing inputs of a group and the
 * table is repeated, so any input may be read there. */
static inline uint64_t lut16(uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3, const uint64_t *lo,
                             const uint64_t *flip) {
    uint64_t v[8];
    for (int e = 0; e < 8; e++) v[e] = lo[e] ^ (x0 & flip[e]);
    for (int e = 0; e < 4; e++) v[e] = v[2 * e] ^ (x1 & (v[2 * e] ^ v[2 * e + 1]));
    for (int e = 0; e < 2; e++) v[e] = v[2 * e] ^ (x2 & (v[2 * e] ^ v[2 * e + 1]));
    return v[0] ^ (x3 & (v[0] ^ v[1]));
}

static void lut_node(const int32_t *slots, uint64_t table, const uint64_t *values, uint64_t *restrict z,
                     int64_t W) {
    int k = 0;
    while (k < 6 && slots[k] >= 0) k++;
    if (k == 0) {
        for (int64_t w = 0; w < W; w++) z[w] = table & 1 ? ~(uint64_t)0 : 0;
        return;
    }
    for (int width = 1 << k; width < 64; width *= 2) table |= table << width;  /* repeat past k */
    const int groups = k > 4 ? 1 << (k - 4) : 1;
    uint64_t lo[4][8], flip[4][8];
    for (int g = 0; g < groups; g++)
        for (int e = 0; e < 8; e++) {
            const uint64_t even = (table >> (16 * g + 2 * e)) & 1, odd = (table >> (16 * g + 2 * e + 1)) & 1;
            lo[g][e] = even ? ~(uint64_t)0 : 0;
            flip[g][e] = even != odd ? ~(uint64_t)0 : 0;
        }
    const uint64_t *restrict x0 = values + (int64_t)slots[0] * W;
    const uint64_t *restrict x1 = values + (int64_t)slots[k > 1 ? 1 : 0] * W;
    const uint64_t *restrict x2 = values + (int64_t)slots[k > 2 ? 2 : 0] * W;
    const uint64_t *restrict x3 = values + (int64_t)slots[k > 3 ? 3 : 0] * W;
    if (groups == 1) {
        for (int64_t w = 0; w < W; w++) z[w] = lut16(x0[w], x1[w], x2[w], x3[w], lo[0], flip[0]);
        return;
    }
    const uint64_t *restrict x4 = values + (int64_t)slots[4] * W;
    const uint64_t *restrict x5 = values + (int64_t)slots[k > 5 ? 5 : 4] * W;
    for (int64_t w = 0; w < W; w++) {
        const uint64_t v0 = lut16(x0[w], x1[w], x2[w], x3[w], lo[0], flip[0]);
        const uint64_t v1 = lut16(x0[w], x1[w], x2[w], x3[w], lo[1], flip[1]);
        uint64_t r = v0 ^ (x4[w] & (v0 ^ v1));
        if (groups == 4) {
            const uint64_t v2 = lut16(x0[w], x1[w], x2[w], x3[w], lo[2], flip[2]);
            const uint64_t v3 = lut16(x0[w], x1[w], x2[w], x3[w], lo[3], flip[3]);
            r ^= x5[w] & (r ^ (v2 ^ (x4[w] & (v2 ^ v3))));
        }
        z[w] = r;
    }
}

/* Rows of bools (one byte per input, 0 or 1) of samples s0.. into input words: word w of input i holds
 * sample s0 + 64w + t in bit t. Eight bytes of a row are read at once; summing them shifted by the sample's
 * place puts 8 samples' bits of 8 inputs in the 8 bytes of one word, which are then spread to the inputs. */
static void pack_rows(const uint8_t *bits, int64_t n_inputs, int64_t s0, int64_t n, uint64_t *values, int64_t W) {
    memset(values, 0, n_inputs * W * sizeof(uint64_t));
    for (int64_t w = 0; w < W; w++) {
        for (int64_t g = 0; g < 8; g++) {
            const int64_t first = s0 + 64 * w + 8 * g;
            if (first >= n) return;
            const int64_t count = n - first < 8 ? n - first : 8;
            int64_t i = 0;
            for (; i + 8 <= n_inputs; i += 8) {
                uint64_t y = 0;
                for (int64_t t = 0; t < count; t++) {
                    uint64_t row;
                    memcpy(&row, bits + (first + t) * n_inputs + i, 8);
                    y |= row << t;
                }
                for (int j = 0; j < 8; j++) values[(i + j) * W + w] |= ((y >> (8 * j)) & 0xFF) << (8 * g);
            }
            for (; i < n_inputs; i++)
                for (int64_t t = 0; t < count; t++)
                    values[i * W + w] |= (uint64_t)(bits[(first + t) * n_inputs + i] & 1) << (8 * g + t);
        }
    }
}

/* Class scores of a block. A class's m output words are summed, W words at a time, by full adders
 * (5 operations for 3 bits in, a sum and a carry out) in a carry-save tree grown as the outputs arrive:
 * each weight holds at most two pending vectors, and a third one is added with them, the carry going one
 * weight up. What is left, at most two vectors per weight, is added with carries from the lowest weight,
 * which gives the planes (plane p holds bit p of each sample's count); they are turned back into one
 * count per sample. */
#define MAX_PLANES 32
static void count_classes(const uint64_t *values, int64_t W, const int32_t *out_slots, int64_t m,
                          int64_t n_classes, int64_t s0, int64_t n, int64_t *scores, uint64_t *pending) {
    /* pending: (MAX_PLANES + 1) weights x 2 vectors x W words, then a carry vector of W words */
    uint64_t *carry = pending + (MAX_PLANES + 1) * 2 * W;
    for (int64_t c = 0; c < n_classes; c++) {
        int held[MAX_PLANES + 1] = {0};
        for (int64_t j = 0; j < m; j++) {
            memcpy(carry, values + (int64_t)out_slots[c * m + j] * W, W * sizeof(uint64_t));
            int p = 0;
            while (held[p] == 2) { /* full adder: the two pending vectors and the carry */
                uint64_t *restrict u = pending + (2 * p) * W, *restrict v = u + W;
                for (int64_t w = 0; w < W; w++) {
                    const uint64_t x = carry[w], t = u[w] ^ v[w];
                    carry[w] = (u[w] & v[w]) | (t & x);
                    u[w] = t ^ x;
                }
                held[p] = 1;
                p++;
            }
            memcpy(pending + (2 * p + held[p]) * W, carry, W * sizeof(uint64_t));
            held[p]++;
        }
        /* Ripple: plane p = the pending vectors at p plus the carry from p - 1, up to the highest weight
         * held; one plane more takes the last carry. */
        int top = 0;
        for (int p = 0; p <= MAX_PLANES; p++) if (held[p]) top = p;
        const int planes = top + 2 <= MAX_PLANES ? top + 2 : MAX_PLANES;
        memset(carry, 0, W * sizeof(uint64_t));
        for (int p = 0; p < planes; p++) {
            uint64_t *restrict u = pending + (2 * p) * W, *restrict v = u + W;
            if (held[p] == 0) memset(u, 0, W * sizeof(uint64_t));
            if (held[p] < 2) memset(v, 0, W * sizeof(uint64_t));
            for (int64_t w = 0; w < W; w++) {
                const uint64_t x = carry[w], t = u[w] ^ v[w];
                carry[w] = (u[w] & v[w]) | (t & x);
                u[w] = t ^ x;
            }
        }
        for (int64_t w = 0; w < W && s0 + 64 * w < n; w++) {
            for (int64_t t = 0; t < 64 && s0 + 64 * w + t < n; t++) {
                int64_t score = 0;
                for (int p = 0; p < planes; p++) score |= (int64_t)((pending[2 * p * W + w] >> t) & 1) << p;
                scores[(s0 + 64 * w + t) * n_classes + c] = score;
            }
        }
    }
}

static void run_program(const uint8_t *ops, const int32_t *dst, const int32_t *in_a, const int32_t *in_b,
                        int64_t n_instructions, const int32_t *lut_slots, const uint64_t *lut_tables,
                        uint64_t *values, int64_t W) {
    for (int64_t g = 0; g < n_instructions; g++) {
        uint64_t *restrict z = values + (int64_t)dst[g] * W;
        if (ops[g] == 16) {  /* in_a[g] is the node's row in lut_slots and lut_tables */
            lut_node(lut_slots + 6 * (int64_t)in_a[g], lut_tables[in_a[g]], values, z, W);
            continue;
        }
        const uint64_t *restrict x = values + (int64_t)in_a[g] * W;
        const uint64_t *restrict y = values + (int64_t)in_b[g] * W;
        switch (ops[g]) {
            /* one case per op, written by hwgen/kernel.py from hwgen/ops.py */
            GATE_CASES
        }
    }
}

/* Scores of n samples (bits: n rows of n_inputs bytes; input i is slot i) on `threads` threads (0: as
 * many as OpenMP is told to use). Returns 0, or -1 when memory
 * for a thread's store could not be had. */
int hwgen_scores(const uint8_t *ops, const int32_t *dst, const int32_t *in_a, const int32_t *in_b,
                 int64_t n_instructions, const int32_t *lut_slots, const uint64_t *lut_tables, int64_t n_slots,
                 const int32_t *out_slots, int64_t m, int64_t n_classes, const uint8_t *bits, int64_t n_inputs,
                 int64_t n, int64_t W, int threads, int64_t *scores) {
    const int64_t blocks = (n + 64 * W - 1) / (64 * W);
    int failed = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
    {
        uint64_t *values = malloc((n_slots > 0 ? n_slots : 1) * W * sizeof(uint64_t));
        /* the class counters' vectors */
        uint64_t *counters = malloc(((MAX_PLANES + 1) * 2 + 1) * W * sizeof(uint64_t));
        if (values == NULL || counters == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t block = 0; block < blocks; block++) {
            if (values == NULL || counters == NULL) continue;
            const int64_t s0 = block * 64 * W;
            pack_rows(bits, n_inputs, s0, n, values, W);
            run_program(ops, dst, in_a, in_b, n_instructions, lut_slots, lut_tables, values, W);
            count_classes(values, W, out_slots, m, n_classes, s0, n, scores, counters);
        }
        free(values);
        free(counters);
    }
    return failed ? -1 : 0;
}

/* The program of a netlist (see the top of this file). fanins: n_gates rows of k node ids, -1 past a
 * gate's last. Writes order (the gates to run, in the order to run them; returns how many) and slot (each
 * node's slot; inputs keep slots 0..n_inputs-1), and the number of slots to *n_slots. Returns -1 when
 * memory could not be had. */
int64_t hwgen_plan(int64_t n_inputs, int64_t n_gates, int64_t k, const int64_t *fanins, const uint8_t *ops,
                   int64_t n_outputs, const int64_t *outputs, int32_t *order, int32_t *slot, int64_t *n_slots) {
    const int64_t nodes = n_inputs + n_gates;
    int64_t *level = calloc(nodes, sizeof(int64_t)), *last = malloc(nodes * sizeof(int64_t));
    uint8_t *live = calloc(nodes, 1);
    int64_t *count = NULL, *head = NULL, *next = NULL, *free_slots = NULL;
    int64_t kept = -1;
    if (!level || !last || !live) goto done;
    for (int64_t j = 0; j < n_outputs; j++) live[outputs[j]] = 1;
    int64_t top = 0;
    for (int64_t g = n_gates - 1; g >= 0; g--)  /* the outputs' cone */
        if (live[n_inputs + g])
            for (int64_t j = 0; j < k; j++) if (fanins[g * k + j] >= 0) live[fanins[g * k + j]] = 1;
    for (int64_t g = 0; g < n_gates; g++) {
        int64_t deepest = 0;
        for (int64_t j = 0; j < k; j++)
            if (fanins[g * k + j] >= 0 && level[fanins[g * k + j]] > deepest) deepest = level[fanins[g * k + j]];
        level[n_inputs + g] = deepest + 1;
        if (deepest + 1 > top) top = deepest + 1;
    }
    /* A counting sort of the live gates by (level, op). */
    const int64_t keys = (top + 1) * 17;
    count = calloc(keys + 1, sizeof(int64_t));
    if (!count) goto done;
    for (int64_t g = 0; g < n_gates; g++) if (live[n_inputs + g]) count[level[n_inputs + g] * 17 + ops[g] + 1]++;
    for (int64_t key = 0; key < keys; key++) count[key + 1] += count[key];
    kept = count[keys];
    for (int64_t g = 0; g < n_gates; g++)
        if (live[n_inputs + g]) order[count[level[n_inputs + g] * 17 + ops[g]]++] = (int32_t)g;
    /* last[v]: the position of the last instruction that reads v (kept for the outputs, -1 for none),
     * then lists of the values whose last reader is each instruction. */
    for (int64_t v = 0; v < nodes; v++) last[v] = -1;
    for (int64_t p = 0; p < kept; p++)
        for (int64_t j = 0; j < k; j++) {
            const int64_t v = fanins[(int64_t)order[p] * k + j];
            if (v >= 0 && last[v] < p) last[v] = p;
        }
    for (int64_t j = 0; j < n_outputs; j++) last[outputs[j]] = kept;
    head = malloc((kept + 1) * sizeof(int64_t));
    next = malloc(nodes * sizeof(int64_t));
    free_slots = malloc((nodes + 1) * sizeof(int64_t));
    if (!head || !next || !free_slots) { kept = -1; goto done; }
    for (int64_t p = 0; p <= kept; p++) head[p] = -1;
    for (int64_t v = 0; v < nodes; v++)
        if (last[v] >= 0) { next[v] = head[last[v]]; head[last[v]] = v; }
    int64_t n_free = 0, used = n_inputs;
    for (int64_t i = n_inputs - 1; i >= 0; i--) {
        slot[i] = (int32_t)i;
        if (last[i] < 0) free_slots[n_free++] = i;  /* inputs nobody reads */
    }
    for (int64_t p = 0; p < kept; p++) {
        const int64_t node = n_inputs + order[p];
        slot[node] = (int32_t)(n_free ? free_slots[--n_free] : used++);
        for (int64_t v = head[p]; v >= 0; v = next[v]) free_slots[n_free++] = slot[v];
    }
    *n_slots = used;
done:
    free(level); free(last); free(live); free(count); free(head); free(next); free(free_slots);
    return kept;
}
