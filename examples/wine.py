"""Your own data through to the RTL, in Python: scikit-learn's wine (178 wines, 13 float features, three
cultivars) into a logic network of LUT4 nodes, then its circuit simplified, emitted, simulated against
itself bit for bit, and synthesized.

    python examples/wine.py --out build/wine [--no-synth]

The same from a config: `python examples/wine.py --csv build/wine/wine.csv` writes the data as a CSV
file, and `hwgen build` takes a config whose `dataset:` names it (docs/configs.md: your own data).
"""

import argparse
import csv
from pathlib import Path

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

from hwgen.learn.estimator import LogicClassifier


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="build/wine")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--no-synth", action="store_true")
    p.add_argument("--csv", help="only write the data set as this CSV file (a label column, then the features)")
    args = p.parse_args()
    wine = load_wine()
    names = wine.target_names[wine.target]  # the classes by name: class_0, class_1, class_2
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["label", *wine.feature_names])
            writer.writerows([name, *row] for name, row in zip(names, wine.data))
        print(f"{args.csv}: {len(names)} rows")
        return
    x_train, x_test, y_train, y_test = train_test_split(wine.data, names, test_size=0.3, random_state=0,
                                                        stratify=names)
    clf = LogicClassifier(layers=[300, 60], bits=4, steps=args.steps, lr=0.02, threads=2, seed=0)
    clf.fit(x_train, y_train)
    print(f"hardened circuit: {clf.netlist_.num_gates} LUT nodes, test accuracy {clf.score(x_test, y_test):.4f}")
    clf.simplify()
    print(f"simplified (proven equivalent): {clf.netlist_.num_gates} nodes")
    rtl = Path(args.out) / "rtl"
    info = clf.emit(rtl)
    sim = clf.simulate(rtl, x_test, "verilator")
    print(f"RTL: {rtl}/{info['name']}.v, latency {info['latency_cycles']} cycles; {sim['vectors']} test wines, "
          f"{sim['mismatches']} mismatches; the port reads each feature as its code (clf.codes)")
    if not args.no_synth:
        syn = clf.synthesize(rtl)
        print(f"{syn['device']}: {syn['logic_cells']} logic cells, {syn['ffs']} FFs, {syn['fmax_mhz']} MHz "
              f"({'meets' if syn['met'] else 'misses'} {syn['freq_mhz']} MHz)")


if __name__ == "__main__":
    main()
