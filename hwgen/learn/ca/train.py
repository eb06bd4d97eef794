"""Training a cellular automaton's rule.

checkerboard: from a single seed cell on a grid x grid torus, bit 0 of every cell should show the
checkerboard. The loss is the squared error against it after every one of the `steps` steps (the
pattern has to grow, and the early steps give the gradient something to hold on to); success is the
hardened rule showing it exactly after the last step.
game-of-life: the rule is fitted to all 512 neighbourhoods of Conway's Game of Life; success is all 512 right.

Each restart trains a freshly initialised rule (seed, seed + 1, ...) until the hardened rule succeeds,
checked every `eval_every` steps; the first success, or else the best try, is kept.
"""

import time

import torch
from tqdm import tqdm

from ...errors import HwgenError
from ...files import ensure_dir
from ..train import load_checkpoint, save_checkpoint
from .model import Rule, checkerboard, seed_state, step

CHECKPOINT = "checkpoint.pt"


def life_table() -> tuple[torch.Tensor, torch.Tensor]:
    """All 512 neighbourhoods (as rule inputs, index 4 the cell) and the Game of Life's next state."""
    codes = torch.arange(512)
    bits = ((codes[:, None] >> torch.arange(9)) & 1).float()
    alive, neighbours = bits[:, 4], bits.sum(1) - bits[:, 4]
    nxt = (neighbours == 3) | ((alive == 1) & (neighbours == 2))
    return bits, nxt.float()[:, None]


class Objective:
    def __init__(self, ca_cfg: dict):
        self.cfg = ca_cfg
        if ca_cfg["pattern"] == "checkerboard":
            self.target = checkerboard(ca_cfg["grid"], ca_cfg["grid"])
        else:
            self.inputs, self.target = life_table()

    def loss(self, rule: Rule) -> torch.Tensor:
        if self.cfg["pattern"] == "game-of-life":
            return ((rule(self.inputs) - self.target) ** 2).mean()
        grid, state, total = self.cfg["grid"], None, 0.0
        state = seed_state(grid, grid, rule.state_bits)
        for _ in range(self.cfg["steps"]):
            state = step(rule, state)
            total = total + ((state[0, :, :, 0] - self.target) ** 2).mean()
        return total / self.cfg["steps"]

    @torch.no_grad()
    def hard_score(self, rule: Rule) -> float:
        """Fraction right with the hardened rule (1.0: solved)."""
        was_training = rule.training
        rule.eval()
        if self.cfg["pattern"] == "game-of-life":
            score = (rule(self.inputs) == self.target).float().mean().item()
        else:
            grid = self.cfg["grid"]
            state = seed_state(grid, grid, rule.state_bits)
            for _ in range(self.cfg["steps"]):
                state = step(rule, state)
            score = (state[0, :, :, 0] == self.target).float().mean().item()
        rule.train(was_training)
        return score


def architecture(ca_cfg: dict) -> dict:
    return {"state_bits": ca_cfg["state_bits"], "kernels": ca_cfg["kernels"],
            "update_layers": list(ca_cfg["update_layers"]), "update_init": ca_cfg["update_init"]}


def rule_from_checkpoint(ckpt) -> Rule:
    arch = ckpt["arch"]
    rule = Rule(arch["state_bits"], arch["kernels"], arch["update_layers"], seed=0, update_init=arch.get("update_init", "random"))
    try:
        rule.load_state_dict(ckpt["rule"])
    except RuntimeError:
        raise HwgenError("checkpoint weights do not match the rule architecture it names") from None
    return rule


def train_ca(cfg: dict, out_dir, progress: bool = True) -> dict:
    out_dir = ensure_dir(out_dir)
    ca, tcfg = cfg["ca"], cfg["train"]
    if tcfg["threads"]:
        torch.set_num_threads(tcfg["threads"])
    objective = Objective(ca)
    best, history, start = None, [], time.time()
    for restart in range(ca["restarts"]):
        seed = cfg["seed"] + restart
        torch.manual_seed(seed)
        rule = Rule(ca["state_bits"], ca["kernels"], ca["update_layers"], seed, ca["update_init"], ca["residual_bias"])
        optimizer = torch.optim.Adam(rule.parameters(), lr=tcfg["lr"])
        solved_at, score = None, 0.0
        bar = tqdm(total=tcfg["steps"], disable=not progress, desc=f"train (try {restart + 1})", unit="step",
                   dynamic_ncols=True)
        for it in range(1, tcfg["steps"] + 1):
            loss = objective.loss(rule)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update(1)
            if it % tcfg["eval_every"] == 0 or it == tcfg["steps"]:
                score = objective.hard_score(rule)
                history.append({"try": restart + 1, "step": it, "loss": loss.item(), "hard_score": score})
                bar.set_postfix(loss=f"{loss.item():.4f}", hard=f"{score:.4f}")
                if score == 1.0:
                    solved_at = it
                    break
        bar.close()
        if best is None or score > best["score"]:
            best = {"score": score, "rule": {k: v.clone() for k, v in rule.state_dict().items()},
                    "try": restart + 1, "seed": seed, "solved_at": solved_at}
        if solved_at is not None:
            break
    metrics = {"solved": best["solved_at"] is not None, "hard_score": best["score"], "try": best["try"],
               "seed": best["seed"], "solved_at_step": best["solved_at"], "seconds": round(time.time() - start, 1)}
    save_checkpoint(out_dir / CHECKPOINT, format="hwgen-ca-checkpoint", config=cfg, arch=architecture(ca),
                    rule=best["rule"], history=history, metrics=metrics)
    return metrics


def load_ca_checkpoint(path) -> dict:
    return load_checkpoint(path, expected_formats=("hwgen-ca-checkpoint",))
