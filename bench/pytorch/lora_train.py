"""LoRA training throughput in PyTorch eager: the baseline for `ftk bench train`.

A Llama decoder written out plainly, as transformers' LlamaForCausalLM computes it with its eager attention (keys and
values repeated per query head, softmax in float32, a causal mask), LoRA on the chosen linear layers as PEFT defines it
(A from Kaiming-uniform, B zero, scaled by alpha / r), AdamW on the adapter only, gradient clipping at 1.0. The timing
follows the kit's bench: random token ids, two warm-up steps, then --steps timed optimizer steps; MFU against a float32
1024 x 1024 matmul timed in the same process, with the same FLOP count per token.

Prints one JSON line. Shapes: --preset smollm2-135m (the kit's preset) or explicit sizes.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    # HuggingFaceTB/SmolLM2-135M's config.json
    "smollm2-135m": dict(vocab=49152, hidden=576, ffn=1536, layers=30, heads=9, kv_heads=3, theta=100000.0, eps=1e-5,
                         init=0.041666666666666664),
}


class LoraLinear(nn.Module):
    """A frozen linear layer plus B·A·x·(alpha / r)."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c["heads"], c["kv_heads"], c["hidden"] // c["heads"]
        self.q_proj = nn.Linear(c["hidden"], self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c["hidden"], self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c["hidden"], self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c["hidden"], bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(2, 3) / math.sqrt(self.head_dim) + mask
        weights = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        y = (weights @ v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(y)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden"], c["ffn"], bias=False)
        self.up_proj = nn.Linear(c["hidden"], c["ffn"], bias=False)
        self.down_proj = nn.Linear(c["ffn"], c["hidden"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.mlp = Mlp(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """Tied embeddings and head, as SmolLM2."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["hidden"], c["eps"])
        head_dim = c["hidden"] // c["heads"]
        for module in self.modules():   # as transformers initialises: normal(0, initializer_range)
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=c["init"])
        self.register_buffer("inv_freq", 1.0 / c["theta"] ** (torch.arange(0, head_dim, 2).float() / head_dim), persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        freqs = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed_tokens.weight.T


def add_lora(model, r, alpha, targets):
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and name in targets:
                setattr(module, name, LoraLinear(child, r, alpha))


def matmul_peak(n=1024, repeats=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2.0 * n ** 3 * repeats / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="smollm2-135m", choices=sorted(PRESETS))
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lora-alpha", type=float, default=16)
    p.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    for name, value in [("--seq-len", a.seq_len), ("--batch-size", a.batch_size), ("--steps", a.steps), ("--lora-r", a.lora_r), ("--threads", a.threads)]:
        if value < 1:
            p.error(f"{name} must be at least 1, got {value}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    c = PRESETS[a.preset]
    model = Llama(c)
    for param in model.parameters():
        param.requires_grad_(False)
    add_lora(model, a.lora_r, a.lora_alpha, set(a.targets.split(",")))
    trainable = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
    generator = torch.Generator().manual_seed(1)

    def step():
        ids = torch.randint(0, c["vocab"], (a.batch_size, a.seq_len), generator=generator)
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, c["vocab"]), ids[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        return loss.item()

    model.train()
    for _ in range(2):
        step()
    start = time.perf_counter()
    losses = [step() for _ in range(a.steps)]
    seconds = time.perf_counter() - start
    tokens = a.steps * a.batch_size * a.seq_len

    # the kit's count: 4 FLOPs per frozen weight per token (forward, input gradients; embeddings once, as the tied head)
    # plus attention scores and values, 3 x 4 x layers x T x heads x head_dim / 2
    parameters = sum(q.numel() for q in model.parameters())
    head_dim = c["hidden"] // c["heads"]
    per_token = 4.0 * parameters + 3.0 * 4 * c["layers"] * a.seq_len * c["heads"] * head_dim / 2
    peak = matmul_peak()
    print(json.dumps({
        "framework": f"pytorch {torch.__version__} eager", "model": a.preset, "parameters": parameters,
        "trainable_params": sum(q.numel() for q in trainable), "threads": torch.get_num_threads(),
        "tokens_per_second": round(tokens / seconds, 1), "step_ms": round(1000 * seconds / a.steps, 1),
        "mfu": round(per_token * tokens / seconds / peak, 4), "matmul_peak_gflops": round(peak / 1e9, 1),
        "losses": [round(x, 5) for x in losses],
    }))


if __name__ == "__main__":
    main()
