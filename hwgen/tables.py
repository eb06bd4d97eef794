"""Truth tables of k-input LUT nodes (netlist v2) as Python ints: bit sum_j x_j * 2**j is f(x_0 .. x_k-1).

The operations the rewriting passes, the exporters and `explain` share: invert, fix or drop an input,
merge two inputs, reorder them, and ask whether the function depends on one.
"""


def entries(table: int, k: int) -> list:
    return [(table >> a) & 1 for a in range(1 << k)]


def from_entries(bits) -> int:
    return sum(int(bit) << a for a, bit in enumerate(bits))


def invert_input(table: int, k: int, j: int) -> int:
    """f with input j complemented."""
    return from_entries(entries(table, k)[a ^ (1 << j)] for a in range(1 << k))


def cofactor(table: int, k: int, j: int, value: int) -> int:
    """f with input j fixed to value: a table over the other k - 1 inputs, in their order."""
    bits = entries(table, k)
    low = (1 << j) - 1
    return from_entries(bits[(a & low) | (value << j) | ((a & ~low) << 1)] for a in range(1 << (k - 1)))


def depends_on(table: int, k: int, j: int) -> bool:
    return cofactor(table, k, j, 0) != cofactor(table, k, j, 1)


def drop_unread(table: int, fanin: list) -> tuple[int, list]:
    """The same function over only the inputs it depends on (table, fanin)."""
    j = 0
    while j < len(fanin):
        if depends_on(table, len(fanin), j):
            j += 1
        else:
            table, fanin = cofactor(table, len(fanin), j, 0), fanin[:j] + fanin[j + 1:]
    return table, fanin


def merge_inputs(table: int, k: int, i: int, j: int) -> int:
    """f where inputs i and j (i < j) are the same signal: a table over the inputs without j."""
    bits = entries(table, k)
    low = (1 << j) - 1
    out = []
    for a in range(1 << (k - 1)):
        full = (a & low) | ((a & ~low) << 1)
        out.append(bits[full | (((full >> i) & 1) << j)])
    return from_entries(out)


def permute(table: int, k: int, order: list) -> int:
    """The table over the inputs reordered: new input m is old input order[m]."""
    bits = entries(table, k)
    out = []
    for a in range(1 << k):
        old = sum(((a >> m) & 1) << order[m] for m in range(k))
        out.append(bits[old])
    return from_entries(out)


def complement(table: int, k: int) -> int:
    return table ^ ((1 << (1 << k)) - 1)
