"""Stand-ins with torch-dwn's attributes (torch-dwn builds a CUDA extension when installed, so it cannot be
installed here): LUTLayer keeps `luts` (out, 2**n) as a parameter and `mapping`, either an int32 (out, n)
parameter or a LearnableMapping whose `weights` (inputs, out * n) parameter picks each input by argmax.
The forward passes are DWN's: address bit l is input l > 0, the output is luts[node, address] > 0."""

import torch


class LearnableMapping(torch.nn.Module):
    def __init__(self, input_size, output_size, generator):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.rand(input_size, output_size, generator=generator))

    def forward(self, x):
        return x[:, self.weights.argmax(0)]


class LUTLayer(torch.nn.Module):
    def __init__(self, input_size, output_size, n, learnable, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.n, self.output_size = n, output_size
        if learnable:
            self.mapping = LearnableMapping(input_size, output_size * n, g)
        else:
            self.mapping = torch.nn.Parameter(torch.randint(0, input_size, (output_size, n), generator=g).int(),
                                              requires_grad=False)
        self.luts = torch.nn.Parameter(torch.rand(output_size, 2 ** n, generator=g) * 2 - 1)

    def forward(self, x):
        if isinstance(self.mapping, LearnableMapping):
            x = self.mapping(x).view(len(x), self.output_size, self.n)
        else:
            x = x[:, self.mapping.long()]
        address = ((x > 0).long() << torch.arange(self.n)).sum(-1)
        return (self.luts.gather(1, address.t()).t() > 0).float()


def model(inputs=30, classes=3):
    return torch.nn.Sequential(LUTLayer(inputs, 24, 6, True, 1), LUTLayer(24, 12, 4, False, 2))
