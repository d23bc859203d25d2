"""One Mamba block, two backends: the mamba-ssm CUDA kernels, or pure PyTorch.

`MambaBlock` owns exactly the parameters of `mamba_ssm.Mamba` (``in_proj``, ``conv1d``, ``x_proj``,
``dt_proj``, ``A_log``, ``D``, ``out_proj``, same shapes), so a state_dict moves between the two.
The backend is chosen per call: mamba-ssm's fused kernels when the package is importable and the
input lives on CUDA, the PyTorch `selective_scan` below otherwise.

Why a sequential scan: our sequences are short (at most ``max_tokens`` ~ 16-32 tokens). On CPU
we measured (one thread, L=16-30, batch 1 / 256 / 1024) a plain loop over time steps in time-major
layout, with a hand-written backward that runs the same loop in reverse, against mambapy's
Blelloch ``pscan`` (which pads to a power of two) and an autograd-traced loop: the loop was as fast
or faster at batch 1 and 1.5-3x faster for training at batch 256-1024, because the cost is memory
traffic on the (batch, L, d_inner, d_state) tensors and ``pscan`` touches them more often.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

try:  # optional CUDA backend
    from mamba_ssm import Mamba as _CudaMamba
except Exception:  # noqa: BLE001 - any import failure (missing package, ABI mismatch) means "absent"
    _CudaMamba = None

__all__ = ["MambaBlock", "selective_scan", "mamba_ssm_available"]


def mamba_ssm_available() -> bool:
    """Whether the mamba-ssm CUDA backend can be used on this machine."""
    return _CudaMamba is not None and torch.cuda.is_available()


class _SelectiveScanFn(torch.autograd.Function):
    """Selective scan with a hand-written backward, one time step at a time.

    Each step only touches ``(batch, d_inner, d_state)`` slabs that stay in cache, instead of
    materialising several ``(batch, L, d_inner, d_state)`` tensors for autograd (the scan is
    memory-bound on CPU, so this is ~3-5x faster to train). The backward runs the recurrence
    in reverse, recomputing the per-step decay.
    """

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):  # type: ignore[override]
        # Time-major contiguous copies: every per-step slice below is then one contiguous block.
        u_t, delta_t, B_t, C_t = (v.transpose(0, 1).contiguous() for v in (u, delta, B, C))
        drive_scale = delta_t * u_t
        states = u.new_empty(*u_t.shape, A.shape[1])  # (L, b, d, n)
        for t in range(u_t.shape[0]):
            torch.mul(drive_scale[t, :, :, None], B_t[t, :, None, :], out=states[t])
            if t:
                states[t].addcmul_(torch.exp(delta_t[t, :, :, None] * A), states[t - 1])
        y = torch.einsum("lbdn,lbn->bld", states, C_t).addcmul_(D, u)
        ctx.save_for_backward(u_t, delta_t, A, B_t, C_t, D, states)
        return y

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        u_t, delta_t, A, B_t, C_t, D, states = ctx.saved_tensors
        grad_y_t = grad_y.transpose(0, 1).contiguous()
        drive_scale = delta_t * u_t
        # dL/dh[t] from the readout y[t] = <C[t], h[t]>, for all t at once.
        grad_h_all = grad_y_t[..., None] * C_t[:, :, None, :]
        grad_C = torch.einsum("lbd,lbdn->bln", grad_y_t, states)
        grad_exponent = torch.zeros_like(states)  # dL/d(delta*A) per step
        for t in range(u_t.shape[0] - 1, 0, -1):
            # h[t] = exp(delta[t] A) h[t-1] + drive[t]: pass dL/dh[t] back to h[t-1].
            decay = torch.exp(delta_t[t, :, :, None] * A)
            grad_exponent[t] = grad_h_all[t] * states[t - 1] * decay
            grad_h_all[t - 1].addcmul_(grad_h_all[t], decay)
        grad_drive_scale = torch.einsum("lbdn,lbn->lbd", grad_h_all, B_t)
        grad_B = torch.einsum("lbdn,lbd->bln", grad_h_all, drive_scale)
        grad_delta = torch.einsum("lbdn,dn->lbd", grad_exponent, A) + grad_drive_scale * u_t
        grad_A = torch.einsum("lbdn,lbd->dn", grad_exponent, delta_t)
        grad_u = grad_drive_scale * delta_t + grad_y_t * D
        grad_D = (grad_y_t * u_t).sum((0, 1))
        return grad_u.transpose(0, 1), grad_delta.transpose(0, 1), grad_A, grad_B, grad_C, grad_D


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """Mamba's selective scan (discretised diagonal SSM), in pure PyTorch.

    For each channel ``d`` and state ``n``::

        h[t] = exp(delta[t] * A) * h[t-1] + delta[t] * B[t] * u[t]      (h[-1] = 0)
        y[t] = <C[t], h[t]> + D * u[t]

    Args:
        u: Input, ``(batch, length, d_inner)``.
        delta: Positive step sizes (already softplus-ed), ``(batch, length, d_inner)``.
        A: State matrix diagonal (negative), ``(d_inner, d_state)``.
        B: Input-dependent input matrix, ``(batch, length, d_state)``.
        C: Input-dependent output matrix, ``(batch, length, d_state)``.
        D: Skip connection, ``(d_inner,)``.

    Returns:
        ``y`` of shape ``(batch, length, d_inner)``. Note the layout is length-before-channels,
        unlike mamba-ssm's ``selective_scan_fn`` which takes ``(batch, d_inner, length)``.
    """
    if torch.is_grad_enabled() and any(t.requires_grad for t in (u, delta, A, B, C, D)):
        return _SelectiveScanFn.apply(u, delta, A, B, C, D)
    # Inference: few large vectorised ops (time-major so each step of the loop is contiguous).
    delta_t = delta.transpose(0, 1)
    states = (delta_t * u.transpose(0, 1)).unsqueeze(-1) * B.transpose(0, 1).unsqueeze(2)  # (L, b, d, n)
    decay = torch.exp(delta_t.unsqueeze(-1) * A)
    for t in range(1, states.shape[0]):
        states[t].addcmul_(decay[t], states[t - 1])
    y = torch.einsum("lbdn,lbn->lbd", states, C.transpose(0, 1))
    return y.transpose(0, 1) + D * u


class MambaBlock(nn.Module):
    """A Mamba (S6) mixer with mamba-ssm's parameter names, shapes and initialisation.

    Args:
        d_model: Width of the residual stream.
        d_state: SSM state size per channel.
        d_conv: Width of the causal depthwise convolution.
        expand: ``d_inner = expand * d_model``.
        dt_rank: Rank of the step-size projection; ``"auto"`` = ``ceil(d_model / 16)``.
        dt_min: Smallest initial step size.
        dt_max: Largest initial step size.
        dt_init_floor: Floor on the initial step size.
        conv_bias: Bias in the convolution.
        bias: Bias in ``in_proj`` / ``out_proj``.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | str = "auto",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
        conv_bias: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.d_model, self.d_state, self.d_conv, self.expand = d_model, d_state, d_conv, expand
        self.d_inner = expand * d_model
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.conv_bias, self.bias = conv_bias, bias

        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=bias)
        self.conv1d = nn.Conv1d(
            self.d_inner, self.d_inner, d_conv, groups=self.d_inner, padding=d_conv - 1, bias=conv_bias
        )
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        # Same initialisation as mamba-ssm: dt log-uniform in [dt_min, dt_max], S4D-real A.
        dt_std = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -dt_std, dt_std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        A = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)
        self._cuda_twin: list[nn.Module] = []  # a plain list keeps it out of state_dict / .to()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix along the sequence: ``(batch, length, d_model) -> (batch, length, d_model)``."""
        if x.is_cuda and _CudaMamba is not None:
            return self._forward_cuda(x)
        length = x.shape[1]
        u, z = self.in_proj(x).chunk(2, dim=-1)
        u = F.silu(self._causal_conv(u, length))
        dt, B, C = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(dt))
        y = selective_scan(u, delta, -torch.exp(self.A_log), B, C, self.D)
        return self.out_proj(y * F.silu(z))

    def _causal_conv(self, u: torch.Tensor, length: int) -> torch.Tensor:
        # Same result as ``self.conv1d(u.transpose(1, 2))[..., :length]`` (depthwise, causal), but
        # as d_conv shifted multiply-adds on (batch, L, d_inner): for our short sequences this is
        # several times cheaper than the conv kernel's call overhead, forward and backward.
        weight = self.conv1d.weight[:, 0, :]  # (d_inner, d_conv)
        padded = F.pad(u, (0, 0, self.d_conv - 1, 0))
        out = padded[:, :length] * weight[:, 0]
        for j in range(1, self.d_conv):
            out = out.addcmul(padded[:, j : j + length], weight[:, j])
        return out if self.conv1d.bias is None else out + self.conv1d.bias

    def _forward_cuda(self, x: torch.Tensor) -> torch.Tensor:
        # Run mamba-ssm's module with *our* parameters (functional_call), so gradients and
        # state_dict stay ours and both backends always see the same weights.
        if not self._cuda_twin:
            twin = _CudaMamba(
                d_model=self.d_model,
                d_state=self.d_state,
                d_conv=self.d_conv,
                expand=self.expand,
                dt_rank=self.dt_rank,
                conv_bias=self.conv_bias,
                bias=self.bias,
            ).to(x.device)
            self._cuda_twin.append(twin)
        params = dict(self.named_parameters())
        return torch.func.functional_call(self._cuda_twin[0], params, (x,))


class BidirectionalMamba(nn.Module):
    """Scan the token sequence in both directions with one shared `MambaBlock`, then sum.

    Tabular feature order is arbitrary, so neither direction is privileged. Sharing the weights
    lets both directions run as one batch (rows and their reversed copies stacked), which halves
    the kernel launches of the batch-1 hot path compared with two separate blocks.
    """

    def __init__(self, d_model: int, d_state: int, expand: int = 2, d_conv: int = 4) -> None:
        super().__init__()
        self.mixer = MambaBlock(d_model, d_state=d_state, expand=expand, d_conv=d_conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, length, d_model) -> (batch, length, d_model)``."""
        out = self.mixer(torch.cat([x, x.flip(1)], dim=0))
        forward_pass, backward_pass = out.chunk(2, dim=0)
        return forward_pass + backward_pass.flip(1)
