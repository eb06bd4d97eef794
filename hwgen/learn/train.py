"""Training loop: config -> checkpoint (weights, wiring, encoder, optimizer and RNG state, curves)."""

import contextlib
import math
import os
import pickle
import signal
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import encoding
from ..data import from_config
from ..errors import HwgenError
from ..files import atomic_path, ensure_dir
from ..flow.config import DEFAULTS
from . import distill
from .nn import build_model, straight_through

CHECKPOINT = "checkpoint.pt"


def encoded_dataset(cfg, data=None):
    """The config's data set (or `data`, a Dataset given as it is) and its encoder's thresholds."""
    data = from_config(cfg) if data is None else data
    if cfg["model"]["conv"] and data.image_shape is None:
        raise HwgenError(f"{cfg['dataset']}: \"model.conv\" needs images: give data.image_shape (or image_shape in "
                         "the .npz)")
    if cfg["model"]["layers"][-1] % data.num_classes:
        raise HwgenError(f"\"model.layers\": the last layer ({cfg['model']['layers'][-1]}) must be a multiple of "
                         f"{cfg['dataset']}'s {data.num_classes} classes")
    return data, data.thresholds(cfg["encoding"]["bits"], cfg["encoding"]["thresholds"])


def _device(cfg):
    if cfg["train"]["device"] == "cuda" and not torch.cuda.is_available():
        raise HwgenError("train.device is cuda, but torch sees no CUDA device")
    return torch.device(cfg["train"]["device"])


@torch.no_grad()
def test_accuracy(model, bits: torch.Tensor, labels: torch.Tensor, hardened: bool, batch: int = 2000) -> float:
    """Test accuracy of the relaxed (float) or the hardened (argmax gates) model."""
    was_training = model.training
    model.train(not hardened)
    correct = 0
    for i in range(0, len(labels), batch):
        correct += (model(bits[i:i + batch].float()).argmax(-1) == labels[i:i + batch]).sum().item()
    model.train(was_training)
    return correct / max(1, len(labels))


def save_checkpoint(path, **state):
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


# What torch's weights-only unpickler may build besides tensors and plain types: numpy arrays, which
# checkpoints written before the encoder was stored as a list hold. Nothing in a checkpoint can run code.
_SAFE_GLOBALS = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.int64))]


def load_state(path, what: str = "hwgen checkpoint",
               hint: str = "a model saved whole by difflogic: hwgen harden --from-difflogic"):
    """A torch.save file of tensors and plain types only, loaded with weights_only: nothing in it runs."""
    path = Path(path)
    if not path.exists():
        raise HwgenError(f"{path}: no such {what.split()[-1]}")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive
        raise HwgenError(f"{path}: not a readable {what} (not a torch.save archive)")
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise HwgenError(f"{path}: not a {what} hwgen can load: it holds Python objects, which hwgen does not "
                         f"unpickle ({hint})") from None
    except Exception as e:  # torch raises many types for a corrupt file
        raise HwgenError(f"{path}: not a readable {what} ({type(e).__name__})") from None


def load_checkpoint(path, expected_formats=("hwgen-checkpoint",)) -> dict:
    ckpt = load_state(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") not in expected_formats:
        raise HwgenError(f"{path}: not an hwgen checkpoint")
    return ckpt


def with_defaults(arch: dict) -> dict:
    """A checkpoint's architecture with the model keys added since it was written at their defaults (which
    keep the architecture it was trained with)."""
    return {**arch, "model": {**DEFAULTS["model"], **arch["model"]}}


def model_from_checkpoint(ckpt) -> torch.nn.Sequential:
    arch = ckpt["arch"]
    model = build_model(arch["in_dim"], arch["num_classes"], arch["model"], seed=0, image_shape=arch.get("image_shape"))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError:
        raise HwgenError("checkpoint weights do not match the architecture it names") from None
    return model


def random_shift(bits: torch.Tensor, image_shape, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each sample's image (pixel-major input bits) moved by its own random offset of up to `shift` pixels
    in each direction, with zeros coming in at the border: small translations the test set also has."""
    n, (h, w) = len(bits), image_shape
    images = torch.nn.functional.pad(bits.reshape(n, h, w, -1).permute(0, 3, 1, 2), (shift,) * 4)
    dy, dx = (torch.randint(0, 2 * shift + 1, (2, n, 1), generator=generator)).to(bits.device)
    rows = (torch.arange(h, device=bits.device) + dy)[:, :, None]
    cols = (torch.arange(w, device=bits.device) + dx)[:, None, :]
    return images[torch.arange(n, device=bits.device)[:, None, None], :, rows, cols].reshape(n, -1)


def _lr_factor(tcfg: dict, step: int) -> float:
    """The learning rate at `step`, as a multiple of train.lr. Cosine: it falls to 0 at the last main
    step, settling the gate choices. The straight-through phase after it starts again from hard_lr."""
    if tcfg["hard_steps"] and step >= tcfg["steps"]:
        angle = math.pi * (step - tcfg["steps"]) / tcfg["hard_steps"]
        return tcfg["hard_lr"] / tcfg["lr"] * 0.5 * (1 + math.cos(angle))
    if tcfg["lr_schedule"] == "cosine":
        return 0.5 * (1 + math.cos(math.pi * step / tcfg["steps"]))
    return 1.0


class _DataParallel:
    """Data-parallel training when started by torchrun (WORLD_SIZE > 1): gloo on CPU, NCCL on CUDA. Every
    process draws the same global batch and takes its own slice; DDP averages the gradients, so a step
    equals the single-process step on the whole batch. Only rank 0 evaluates and writes."""

    def __init__(self, cfg: dict):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and cfg["train"]["batch_size"] % self.world:
            raise HwgenError(f"train.batch_size {cfg['train']['batch_size']} does not split over "
                             f"{self.world} processes")

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def start(self, device: torch.device) -> torch.device:
        if self.world == 1:
            return device
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return device

    def wrap(self, model):
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        return idx[self.rank::self.world]

    def stop(self):
        if self.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


@contextlib.contextmanager
def _interruptible():
    """An event that Ctrl-C (SIGINT) sets instead of stopping the program mid-step, so that the training
    loop can stop between steps and save them; a second Ctrl-C stops at once. Outside the main thread,
    where no handler can be set, an event that stays clear."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    before = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, before)


def train(cfg: dict, out_dir, resume: bool = False, progress: bool = True, data=None) -> dict:
    """Train from a validated config (on `data`, a Dataset, where given: the Python API's arrays); write
    OUT/checkpoint.pt; return the final metrics. Under torchrun, every process runs this and rank 0 writes."""
    out_dir = ensure_dir(out_dir)
    tcfg = cfg["train"]
    parallel = _DataParallel(cfg)
    if tcfg["threads"]:
        torch.set_num_threads(max(1, tcfg["threads"] // parallel.world))
    device = parallel.start(_device(cfg))
    data, thresholds = encoded_dataset(cfg, data)
    train_bits = torch.from_numpy(encoding.encode(data.train_x, thresholds).astype(np.uint8)).to(device)
    test_bits = torch.from_numpy(encoding.encode(data.test_x, thresholds).astype(np.uint8)).to(device)
    train_y = torch.from_numpy(data.train_y).to(device)
    test_y = torch.from_numpy(data.test_y).to(device)
    in_dim = train_bits.shape[1]

    torch.manual_seed(cfg["seed"])
    model = build_model(in_dim, data.num_classes, cfg["model"], cfg["seed"], data.image_shape).to(device)
    stepper = parallel.wrap(model)  # what the training step calls; `model` is the same weights, unwrapped
    optimizer = torch.optim.Adam(model.parameters(), lr=tcfg["lr"])
    main_steps, total_steps = tcfg["steps"], tcfg["steps"] + tcfg["hard_steps"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(tcfg, s))
    sampler = torch.Generator().manual_seed(cfg["seed"])
    arch = {"in_dim": in_dim, "num_classes": data.num_classes, "model": cfg["model"]}
    if cfg["model"]["conv"]:
        arch["image_shape"] = list(data.image_shape)
    step, history = 0, []
    ckpt_path = out_dir / CHECKPOINT
    if resume:
        ckpt = load_checkpoint(ckpt_path)
        if with_defaults(ckpt["arch"]) != arch:
            raise HwgenError(f"{ckpt_path}: checkpoint was trained with another architecture than this config")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        sampler.set_state(ckpt["sampler"])
        step, history = ckpt["step"], ckpt["history"]
        # This config's schedule from here on (lengthened, or another train.lr): the scheduler keeps its
        # base rate in its state, so it is set again as well as the rate of the next step.
        scheduler.base_lrs = [tcfg["lr"]] * len(optimizer.param_groups)
        for group in optimizer.param_groups:
            group["initial_lr"], group["lr"] = tcfg["lr"], tcfg["lr"] * _lr_factor(tcfg, step)

    def checkpoint(metrics=None):
        if not parallel.leader:
            return
        save_checkpoint(ckpt_path, format="hwgen-checkpoint", config=cfg, arch=arch, model=model.state_dict(),
                        optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                        sampler=sampler.get_state(), step=step,
                        history=history, encoder=thresholds.tolist(), metrics=metrics,
                        input_names=data.input_names(thresholds))

    loss_fn = torch.nn.CrossEntropyLoss()
    teacher, teacher_acc = None, None
    distilled = tcfg["teacher"]
    if distilled["hidden"]:
        teacher = distill.train_teacher(distilled, train_bits, train_y, data.num_classes, cfg["seed"])
        teacher_acc = test_accuracy(teacher, test_bits, test_y, hardened=True)  # eval mode, as the loop uses it
        if parallel.leader and progress:
            tqdm.write(f"teacher ({distilled['hidden']} hidden units, {distilled['steps']} steps): "
                       f"test accuracy {teacher_acc:.4f}")
    model.train()
    start = time.time()
    # A bar on a terminal only (disable=None); in a log, a line per evaluation.
    bar = tqdm(total=total_steps, initial=step, disable=None if progress and parallel.leader else True, desc="train",
               unit="step", dynamic_ncols=True)
    running_loss = running_acc = None
    with _interruptible() as interrupted:
        while step < total_steps and not interrupted.is_set():
            # The whole global batch is drawn (and shifted) by every process, which then takes its slice: the
            # sampler's state stays the same in all of them.
            idx = torch.randint(len(train_y), (tcfg["batch_size"],), generator=sampler).to(device)
            x, y = train_bits[idx].float(), train_y[idx]
            if tcfg["shift"] and data.image_shape:
                x = random_shift(x, data.image_shape, tcfg["shift"], sampler)
            x, y = parallel.shard(x), parallel.shard(y)
            with straight_through(model, step >= main_steps):
                logits = stepper(x)
            if teacher is None:
                loss = loss_fn(logits, y)
            else:
                with torch.no_grad():
                    taught = teacher(x)
                loss = distill.loss(logits, y, taught, distilled["temperature"], distilled["alpha"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            acc = (logits.argmax(-1) == y).float().mean().item()
            running_loss = loss.item() if running_loss is None else 0.98 * running_loss + 0.02 * loss.item()
            running_acc = acc if running_acc is None else 0.98 * running_acc + 0.02 * acc
            bar.update(1)
            bar.set_postfix(loss=f"{running_loss:.3f}", acc=f"{running_acc:.3f}")
            if parallel.leader and (step % tcfg["eval_every"] == 0 or step in (main_steps, total_steps)):
                history.append({"step": step, "loss": running_loss, "train_acc": running_acc,
                                "test_float": test_accuracy(model, test_bits, test_y, hardened=False),
                                "test_hardened": test_accuracy(model, test_bits, test_y, hardened=True)})
                if progress:
                    bar.write(f"step {step}: test accuracy float {history[-1]['test_float']:.4f}, "
                              f"hardened {history[-1]['test_hardened']:.4f}")
            if step % tcfg["checkpoint_every"] == 0 and step < total_steps:
                checkpoint()
    if interrupted.is_set():  # Ctrl-C: stopped after the step it came in, which the checkpoint holds
        bar.close()
        checkpoint()
        parallel.stop()
        raise HwgenError(f"interrupted at step {step} of {total_steps}: the checkpoint at that step is in {ckpt_path}; "
                         "to go on from it, run the same hwgen train with --resume (or hwgen build again)")
    bar.close()
    metrics = {"steps": step, "seconds": time.time() - start, "teacher_test": teacher_acc,
               "test_float": test_accuracy(model, test_bits, test_y, hardened=False),
               "test_hardened": test_accuracy(model, test_bits, test_y, hardened=True)}
    checkpoint(metrics)
    parallel.stop()
    return metrics
