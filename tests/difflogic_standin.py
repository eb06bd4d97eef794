"""Stand-ins with difflogic's attributes (difflogic itself needs CUDA to install): LogicLayer keeps
`in_dim`, `weights` (out, 16) and `indices`, a tuple of two index tensors, outside state_dict;
GroupSum keeps `k` and `tau`. Importable as a module, so that a model of them pickles like difflogic's."""

import torch


class LogicLayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.weights = torch.nn.Parameter(torch.randn(out_dim, 16, generator=g))
        self.indices = (torch.randint(0, in_dim, (out_dim,), generator=g),
                        torch.randint(0, in_dim, (out_dim,), generator=g))


class GroupSum(torch.nn.Module):
    def __init__(self, k, tau):
        super().__init__()
        self.k, self.tau = k, tau
