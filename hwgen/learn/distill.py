"""Distillation: a small neural network (the teacher, an MLP) is trained first on the same input bits,
and the logic network then learns from its softened outputs as well as from the labels:

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)

(Hinton et al.'s knowledge distillation; T^2 keeps the soft term's gradients on the scale of the hard one).
The teacher is trained from the config's seed on every run, so a resumed run sees the same teacher.
"""

import torch

BATCH = 256
LR = 1e-3


def build_teacher(in_dim: int, num_classes: int, hidden: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(in_dim, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, num_classes))


def train_teacher(tcfg: dict, bits: torch.Tensor, labels: torch.Tensor, num_classes: int, seed: int):
    """The teacher of train.teacher (hidden units, steps) trained on (bits, labels), in eval mode."""
    torch.manual_seed(seed)
    teacher = build_teacher(bits.shape[1], num_classes, tcfg["hidden"]).to(bits.device)
    optimizer = torch.optim.Adam(teacher.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(tcfg["steps"]):
        idx = torch.randint(len(labels), (BATCH,), generator=generator).to(bits.device)
        loss = torch.nn.functional.cross_entropy(teacher(bits[idx].float()), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return teacher.eval()


def loss(student_logits, labels, teacher_logits, temperature: float, alpha: float):
    hard = torch.nn.functional.cross_entropy(student_logits, labels)
    soft = torch.nn.functional.kl_div(torch.log_softmax(student_logits / temperature, dim=-1),
                                      torch.log_softmax(teacher_logits / temperature, dim=-1),
                                      reduction="batchmean", log_target=True)
    return alpha * temperature ** 2 * soft + (1 - alpha) * hard
