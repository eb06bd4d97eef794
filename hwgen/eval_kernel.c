/* Bit-parallel netlist evaluation: one pass over the gates per block of W 64-bit words (64*W samples).
 * Each gate's loop over the block is a plain array expression, which the compiler vectorises (AVX2 moves
 * 4 words per instruction), so the per-gate dispatch is paid once per block, not once per word. */
#include <stdint.h>

#define GATE(expr) \
    for (int64_t w = 0; w < W; w++) { const uint64_t a = x[w], b = y[w]; (void)a; (void)b; z[w] = (expr); } \
    break

/* A LUT node (op 16, netlist v2): its k inputs (lut_inputs[6g..], -1 past k) and table, bit-sliced as a
 * tree of multiplexers over the table's entries: scratch holds the 2^k entries of the block, and each of
 * the k inputs, from the last, halves them. */
static void lut_node(const int32_t *inputs, uint64_t table, const uint64_t *values, uint64_t *z, int64_t W,
                     uint64_t *scratch) {
    int k = 0;
    while (k < 6 && inputs[k] >= 0) k++;
    for (int64_t a = 0; a < ((int64_t)1 << k); a++) {
        const uint64_t entry = (table >> a) & 1 ? ~(uint64_t)0 : 0;
        for (int64_t w = 0; w < W; w++) scratch[a * W + w] = entry;
    }
    for (int j = k - 1; j >= 0; j--) {
        const uint64_t *restrict x = values + (int64_t)inputs[j] * W;
        const int64_t half = (int64_t)1 << j;
        for (int64_t a = 0; a < half; a++) {
            uint64_t *restrict lo = scratch + a * W;
            const uint64_t *restrict hi = scratch + (a + half) * W;
            for (int64_t w = 0; w < W; w++) lo[w] = (x[w] & hi[w]) | (~x[w] & lo[w]);
        }
    }
    for (int64_t w = 0; w < W; w++) z[w] = scratch[w];
}

void hwgen_eval(const uint8_t *ops, const int32_t *in_a, const int32_t *in_b, int64_t n_inputs,
                int64_t n_gates, uint64_t *values, int64_t W, const int32_t *lut_inputs,
                const uint64_t *lut_tables, uint64_t *scratch) {
    for (int64_t g = 0; g < n_gates; g++) {
        const uint64_t *restrict x = values + (int64_t)in_a[g] * W;
        const uint64_t *restrict y = values + (int64_t)in_b[g] * W;
        uint64_t *restrict z = values + (n_inputs + g) * W;
        if (ops[g] == 16) {
            lut_node(lut_inputs + 6 * g, lut_tables[g], values, z, W, scratch);
            continue;
        }
        switch (ops[g]) {
            /* one case per op, written by hwgen/kernel.py from hwgen/ops.py */
            GATE_CASES
        }
    }
}

/* Class scores of a block: the m output words of a class are added into bit-sliced counters (plane k
 * holds bit k of 64 samples' counts), then the planes are turned back into one count per sample. */
void hwgen_scores(const uint64_t *values, int64_t W, const int64_t *outputs, int64_t m, int64_t n_classes,
                  int64_t n_samples, int32_t *scores) {
    for (int64_t c = 0; c < n_classes; c++) {
        for (int64_t w = 0; w < W; w++) {
            uint64_t planes[40] = {0};
            int planes_used = 0;
            for (int64_t j = 0; j < m; j++) {
                uint64_t carry = values[outputs[c * m + j] * W + w];
                for (int k = 0; carry; k++) {
                    uint64_t t = planes[k] & carry;
                    planes[k] ^= carry;
                    carry = t;
                    if (k >= planes_used) planes_used = k + 1;
                }
            }
            for (int s = 0; s < 64 && w * 64 + s < n_samples; s++) {
                int32_t score = 0;
                for (int k = 0; k < planes_used; k++) score |= (int32_t)((planes[k] >> s) & 1) << k;
                scores[(w * 64 + s) * n_classes + c] = score;
            }
        }
    }
}
