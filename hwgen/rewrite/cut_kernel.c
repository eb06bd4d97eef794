/* Cut enumeration, the one engine for cut rewriting (hwgen_cut_gains) and explain's named functions
 * (hwgen_cuts). For cut rewriting, for every gate: up to P cuts of at most K <= 4 leaves (the gate itself, then
 * merges of its inputs' cuts, smallest first) with their truth tables, and the best rewrite among them:
 * the gates of the cut's maximum fanout-free cone (those that die with the gate) minus the gates of the
 * smallest circuit for the cut's function (from the exact table). */
#include <stdint.h>
#include <stdlib.h>

typedef struct { int32_t leaf[4]; int32_t n; uint32_t tt; } Cut;

/* tt of a cut over `sub` leaves, re-expressed over the leaves of `full` (sub is a subset of full). */
static uint32_t expand(uint32_t tt, const Cut *sub, const Cut *full) {
    int pos[4];
    for (int i = 0, j = 0; i < sub->n; i++) {
        while (full->leaf[j] != sub->leaf[i]) j++;
        pos[i] = j;
    }
    uint32_t r = 0;
    for (int m = 0; m < 16; m++) {
        int idx = 0;
        for (int i = 0; i < sub->n; i++) idx |= ((m >> pos[i]) & 1) << i;
        r |= ((tt >> idx) & 1u) << m;
    }
    return r;
}

/* Sorted union of two cuts' leaves; 0 when it has more than K (at most 4: Cut holds 4, and the exact table
 * of cut_rewrite.py covers 4-input functions). */
static int merge(const Cut *x, const Cut *y, Cut *out, int K) {
    int i = 0, j = 0, n = 0;
    while (i < x->n || j < y->n) {
        int32_t v;
        if (j >= y->n || (i < x->n && x->leaf[i] < y->leaf[j])) v = x->leaf[i++];
        else if (i >= x->n || y->leaf[j] < x->leaf[i]) v = y->leaf[j++];
        else { v = x->leaf[i++]; j++; }
        if (n == K) return 0;
        out->leaf[n++] = v;
    }
    out->n = n;
    return 1;
}

static uint32_t apply_op(int op, uint32_t x, uint32_t y) {  /* op bit 3-2a-b holds f(a, b) */
    uint32_t r = 0;
    if (op & 8) r |= ~x & ~y;
    if (op & 4) r |= ~x & y;
    if (op & 2) r |= x & ~y;
    if (op & 1) r |= x & y;
    return r & 0xFFFF;
}

static int is_leaf(const Cut *c, int32_t v) {
    for (int i = 0; i < c->n; i++) if (c->leaf[i] == v) return 1;
    return 0;
}

typedef struct { const int32_t *a, *b; int64_t n_inputs; int32_t *refs, *touched; int64_t n_touched; } Cone;

/* Gates that die with `node` when the cut's leaves stay: drop references recursively (undone by the caller). */
static int deref(Cone *c, int32_t node, const Cut *cut) {
    int count = 1;
    int64_t g = node - c->n_inputs;
    int32_t kids[2] = {c->a[g], c->b[g]};
    for (int k = 0; k < 2; k++) {
        int32_t v = kids[k];
        if (v < c->n_inputs || is_leaf(cut, v)) continue;
        c->touched[c->n_touched++] = v;
        if (--c->refs[v] == 0) count += deref(c, v, cut);
    }
    return count;
}

static int leaves_before(const Cut *x, const Cut *y) {  /* fewer leaves first, then by the leaves */
    if (x->n != y->n) return x->n < y->n;
    for (int l = 0; l < x->n; l++) if (x->leaf[l] != y->leaf[l]) return x->leaf[l] < y->leaf[l];
    return 0;
}

/* Stable insertion sort: fewer leaves first; with `by_leaves`, equal sizes ordered by their leaves. */
static void candidate_sort(Cut *cands, int n, int by_leaves) {
    for (int i = 1; i < n; i++) {
        Cut x = cands[i];
        int j = i - 1;
        while (j >= 0 && (by_leaves ? leaves_before(&x, &cands[j]) : cands[j].n > x.n)) { cands[j + 1] = cands[j]; j--; }
        cands[j + 1] = x;
    }
}

/* The cuts of gate g (node n_inputs + g) from one stored cut of each input: the distinct sorted unions of
 * at most K leaves, each with its truth table, in `cands` (room for P * P); returns how many, sorted. */
static int gate_candidates(const uint8_t *ops, const int32_t *in_a, const int32_t *in_b, int64_t g,
                           const Cut *cuts, const int32_t *n_cuts, int64_t P, int K, int by_leaves, Cut *cands) {
    const Cut *ca = &cuts[(int64_t)in_a[g] * P], *cb = &cuts[(int64_t)in_b[g] * P];
    int n = 0;
    for (int i = 0; i < n_cuts[in_a[g]]; i++) {
        for (int j = 0; j < n_cuts[in_b[g]]; j++) {
            Cut m;
            if (!merge(&ca[i], &cb[j], &m, K)) continue;
            int dup = 0;
            for (int k = 0; k < n && !dup; k++) {
                dup = cands[k].n == m.n;
                for (int l = 0; l < m.n && dup; l++) dup = cands[k].leaf[l] == m.leaf[l];
            }
            if (dup) continue;
            m.tt = apply_op(ops[g], expand(ca[i].tt, &ca[i], &m), expand(cb[j].tt, &cb[j], &m));
            cands[n++] = m;
        }
    }
    candidate_sort(cands, n, by_leaves);
    return n;
}

static void own_cuts(Cut *cuts, int32_t *n_cuts, int64_t n_nodes, int64_t P) {  /* every node's own cut first */
    for (int64_t v = 0; v < n_nodes; v++) {
        Cut *self = &cuts[v * P];
        self->leaf[0] = (int32_t)v; self->n = 1; self->tt = 0xAAAA;
        n_cuts[v] = 1;
    }
}

/* Every node's cuts, for explain's named functions (hwgen/explain/functions.py): its own, then up to P - 1
 * of its gate's candidates, fewer leaves first and then by the leaves. leaves: n_nodes * P * 4 (-1 past a
 * cut's last), tt: n_nodes * P, counts: n_nodes. */
int hwgen_cuts(const uint8_t *ops, const int32_t *in_a, const int32_t *in_b, int64_t n_inputs, int64_t n_gates,
               int64_t P, int64_t K, int32_t *leaves, uint16_t *tt, int32_t *counts) {
    int64_t n_nodes = n_inputs + n_gates;
    Cut *cuts = malloc(sizeof(Cut) * n_nodes * P);
    Cut *cands = malloc(sizeof(Cut) * P * P);
    if (!cuts || !cands) { free(cuts); free(cands); return -1; }
    own_cuts(cuts, counts, n_nodes, P);
    for (int64_t g = 0; g < n_gates; g++) {
        int64_t node = n_inputs + g;
        if (ops[g] == 16) continue;
        int n = gate_candidates(ops, in_a, in_b, g, cuts, counts, P, (int)K, 1, cands);
        for (int k = 0; k < n && k < P - 1; k++) cuts[node * P + 1 + k] = cands[k];
        counts[node] = 1 + (n < P - 1 ? n : (int)(P - 1));
    }
    for (int64_t c = 0; c < n_nodes * P; c++) {
        for (int l = 0; l < 4; l++) leaves[4 * c + l] = l < cuts[c].n ? cuts[c].leaf[l] : -1;
        tt[c] = (uint16_t)cuts[c].tt;
    }
    free(cuts); free(cands);
    return 0;
}

/* refs: fanout count of every node (outputs included); left as it was. gain/leaves/tt: per gate. */
int hwgen_cut_gains(const uint8_t *ops, const int32_t *in_a, const int32_t *in_b, int64_t n_inputs,
                    int64_t n_gates, int32_t *refs, const uint8_t *cost, int64_t P, int64_t K,
                    int32_t *gain, int32_t *leaves, uint16_t *tt) {
    int64_t n_nodes = n_inputs + n_gates;
    Cut *cuts = malloc(sizeof(Cut) * n_nodes * P);
    int32_t *n_cuts = malloc(sizeof(int32_t) * n_nodes);
    Cut *cands = malloc(sizeof(Cut) * P * P);
    Cone cone = {in_a, in_b, n_inputs, refs, malloc(sizeof(int32_t) * 2 * (n_nodes + 1)), 0};
    if (!cuts || !n_cuts || !cands || !cone.touched) {
        free(cuts); free(n_cuts); free(cands); free(cone.touched);
        return -1;
    }
    own_cuts(cuts, n_cuts, n_nodes, P);
    for (int64_t g = 0; g < n_gates; g++) {
        int64_t node = n_inputs + g;
        gain[g] = 0;
        leaves[4 * g] = leaves[4 * g + 1] = leaves[4 * g + 2] = leaves[4 * g + 3] = -1;
        tt[g] = 0;
        if (ops[g] == 16) continue;  /* a LUT node (netlist v2): only its own cut, a leaf of its readers' */
        int n = gate_candidates(ops, in_a, in_b, g, cuts, n_cuts, P, (int)K, 0, cands);
        for (int k = 0; k < n; k++) {  /* every candidate is scored; the smallest P - 1 are kept for fanouts */
            if (k < P - 1) cuts[node * P + 1 + k] = cands[k];
            int c = cost[cands[k].tt];
            if (c == 255) continue;
            cone.n_touched = 0;
            int saved = deref(&cone, (int32_t)node, &cands[k]) - c;
            for (int64_t t = 0; t < cone.n_touched; t++) refs[cone.touched[t]]++;
            if (saved > gain[g]) {
                gain[g] = saved;
                for (int l = 0; l < 4; l++) leaves[4 * g + l] = l < cands[k].n ? cands[k].leaf[l] : -1;
                tt[g] = (uint16_t)cands[k].tt;
            }
        }
        n_cuts[node] = 1 + (n < P - 1 ? n : (int)(P - 1));
    }
    free(cuts); free(n_cuts); free(cands); free(cone.touched);
    return 0;
}
