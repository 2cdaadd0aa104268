"""DiffKernels' networks in PyTorch, parameter for parameter: Mlp, UNet (XS, S and any other config) and DiT (S/4 and
others), with the same dotted parameter names, so a checkpoint written by DiffKernels loads here by name
(load_state_dict(strict=True)) and a state dict saved from here loads in DiffKernels. Images are NCHW here and NHWC in
DiffKernels; checkpoints store convolution weights as PyTorch's OIHW either way. The EDM denoiser D(x; σ, label) is
`denoise` below. safetensors files are read and written by the few lines here (no safetensors package needed).

The networks follow src/DiffKernels.Diffusion/Models (Mlp.cs, UNet.cs, UNetResBlock.cs, UNetResample.cs, DiT.cs,
DiTBlock.cs) and src/DiffKernels/Nn; the configs are the JSON the checkpoints record under "config".
"""

import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------------- safetensors

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    """(tensors by name, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = bytearray(body[start:end])
        t = torch.frombuffer(raw, dtype=_DTYPES[info["dtype"]]) if end > start else torch.empty(0, dtype=_DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).float()
    return tensors, metadata


def save_safetensors(path, tensors, metadata):
    """Writes float32 tensors and string metadata as a safetensors file."""
    header, chunks, offset = {"__metadata__": {k: str(v) for k, v in metadata.items()}}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# ------------------------------------------------------------------------------------------------------- shared parts


def timestep_features(t, dim, max_period=10000.0):
    """[cos(t·f_i), sin(t·f_i)], f_i = max_period^(−i/half), phases in double as F.TimestepEmbedding computes them."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64, device=t.device) / half)
    phase = t.double()[:, None] * freqs[None]
    return torch.cat([torch.cos(phase), torch.sin(phase)], dim=1).float()


def one_hot(labels, classes):
    """Class ids as one-hot rows; −1 ("no class") gives a zero row."""
    return (labels.reshape(-1, 1) == torch.arange(classes, dtype=labels.dtype, device=labels.device)[None]).float()


class Attention(nn.Module):
    """AttentionBlock: GroupNorm, q/k/v projections, one- or multi-head softmax attention, residual projection."""

    def __init__(self, channels, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.q, self.k, self.v, self.proj = (nn.Linear(channels, channels) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        a = multi_head(self.q(t), self.k(t), self.v(t), self.heads)
        return x + self.proj(a).reshape(b, h, w, c).permute(0, 3, 1, 2)


def multi_head(q, k, v, heads):
    """Head h attends with channels [h·D, (h+1)·D), scale 1/√D."""
    b, n, c = q.shape
    d = c // heads
    split = lambda t: t.reshape(b, -1, heads, d).transpose(1, 2)
    a = torch.softmax(split(q) @ split(k).transpose(-1, -2) / math.sqrt(d), dim=-1) @ split(v)
    return a.transpose(1, 2).reshape(b, n, c)


# --------------------------------------------------------------------------------------------------------------- Mlp


class Mlp(nn.Module):
    def __init__(self, dim=2, hidden=128, layers=3, time_features=32, time_scale=16.0, time_max_period=100.0, num_classes=0):
        super().__init__()
        self.num_classes, self.time_features, self.time_scale, self.time_max_period = num_classes, time_features, time_scale, time_max_period
        self.layers = nn.ModuleList(nn.Linear(dim if k == 0 else hidden, hidden) for k in range(layers))
        self.time = nn.ModuleList(nn.Linear(time_features, hidden, bias=False) for _ in range(layers))
        if num_classes > 0:
            self.label = nn.ModuleList(nn.Linear(num_classes, hidden, bias=False) for _ in range(layers))
        self.out = nn.Linear(hidden, dim)

    def forward(self, x, c_noise, labels=None):
        features = timestep_features(c_noise * self.time_scale, self.time_features, self.time_max_period)
        hot = one_hot(labels, self.num_classes) if labels is not None else None
        h = x
        for k, layer in enumerate(self.layers):
            pre = layer(h) + self.time[k](features)
            if hot is not None:
                pre = pre + self.label[k](hot)
            h = F.silu(pre)
        return self.out(h)


# -------------------------------------------------------------------------------------------------------------- UNet


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, groups, attention):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.skip = nn.Conv2d(cin, cout, 1)
        if attention:
            self.attn = Attention(cout, 1, groups)

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(e)[:, :, None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (scale + 1) + shift))
        y = (self.skip(x) if hasattr(self, "skip") else x) + h
        return self.attn(y) if hasattr(self, "attn") else y


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, image_size, channels, base_channels, multipliers, res_blocks, attention_resolutions,
                 groups=8, time_features=32, embed_dim=128, num_classes=0):
        super().__init__()
        self.num_classes, self.time_features = num_classes, time_features
        emb = embed_dim
        self.time_embed = nn.Sequential(nn.Linear(time_features, emb), nn.SiLU(), nn.Linear(emb, emb))
        if num_classes > 0:
            self.label_embed = nn.Linear(num_classes, emb, bias=False)
        self.conv_in = nn.Conv2d(channels, base_channels, 3, padding=1)
        skips, ch, levels = [base_channels], base_channels, len(multipliers)
        self.down = nn.ModuleList()
        for level in range(levels):
            out, attn = base_channels * multipliers[level], (image_size >> level) in attention_resolutions
            for _ in range(res_blocks):
                self.down.append(ResBlock(ch, out, emb, groups, attn))
                ch = out
                skips.append(ch)
            if level < levels - 1:
                self.down.append(Down(ch))
                skips.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb, groups, False), Attention(ch, 1, groups), ResBlock(ch, ch, emb, groups, False)])
        self.up = nn.ModuleList()
        for level in reversed(range(levels)):
            out, attn = base_channels * multipliers[level], (image_size >> level) in attention_resolutions
            for _ in range(res_blocks + 1):
                self.up.append(ResBlock(ch + skips.pop(), out, emb, groups, attn))
                ch = out
            if level > 0:
                self.up.append(Up(ch))
        self.norm_out = nn.GroupNorm(groups, ch, eps=1e-5)
        self.conv_out = nn.Conv2d(ch, channels, 3, padding=1)

    def forward(self, x, c_noise, labels=None):
        e = self.time_embed(timestep_features(c_noise, self.time_features))
        if self.num_classes > 0 and labels is not None:
            e = e + self.label_embed(one_hot(labels, self.num_classes))
        e = F.silu(e)
        h = self.conv_in(x)
        skips = [h]
        for m in self.down:
            h = m(h, e) if isinstance(m, ResBlock) else m(h)
            skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, e)), e)
        for m in self.up:
            h = m(torch.cat([h, skips.pop()], dim=1), e) if isinstance(m, ResBlock) else m(h)
        return self.conv_out(F.silu(self.norm_out(h)))


# --------------------------------------------------------------------------------------------------------------- DiT


def modulate(x, shift, scale):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6) * (scale + 1) + shift


class DiTBlock(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.fc1 = nn.Linear(width, mlp_ratio * width)
        self.fc2 = nn.Linear(mlp_ratio * width, width)
        self.ada = nn.Linear(width, 6 * width)

    def forward(self, x, c):
        m = self.ada(F.silu(c))[:, None].chunk(6, dim=2)
        q, k, v = self.qkv(modulate(x, m[0], m[1])).chunk(3, dim=2)
        x = x + m[2] * self.proj(multi_head(q, k, v, self.heads))
        return x + m[5] * self.fc2(F.gelu(self.fc1(modulate(x, m[3], m[4]))))


def position_embedding(g, width):
    """2-D sine-cosine embedding: [sin(r·f), cos(r·f), sin(c·f), cos(c·f)], f_i = 10000^(−i/(width/4))."""
    quarter = width // 4
    f = torch.pow(torch.tensor(10000.0, dtype=torch.float64), -torch.arange(quarter, dtype=torch.float64) / quarter)
    r, c = torch.meshgrid(torch.arange(g, dtype=torch.float64), torch.arange(g, dtype=torch.float64), indexing="ij")
    r, c = r.reshape(-1, 1) * f, c.reshape(-1, 1) * f
    return torch.cat([torch.sin(r), torch.cos(r), torch.sin(c), torch.cos(c)], dim=1).float()[None]


class DiT(nn.Module):
    def __init__(self, image_size, channels, patch, width, depth, heads, mlp_ratio=4, time_features=256, num_classes=0):
        super().__init__()
        self.image_size, self.channels, self.patch, self.time_features, self.num_classes = image_size, channels, patch, time_features, num_classes
        self.x_embed = nn.Conv2d(channels, width, patch, stride=patch)
        self.t_embed = nn.Sequential(nn.Linear(time_features, width), nn.SiLU(), nn.Linear(width, width))
        if num_classes > 0:
            self.label_embed = nn.Linear(num_classes, width, bias=False)
        self.blocks = nn.ModuleList(DiTBlock(width, heads, mlp_ratio) for _ in range(depth))
        self.final_ada = nn.Linear(width, 2 * width)
        self.final = nn.Linear(width, patch * patch * channels)
        self.register_buffer("pos", position_embedding(image_size // patch, width), persistent=False)

    def forward(self, x, c_noise, labels=None):
        n, p, ch, g = x.shape[0], self.patch, self.channels, self.image_size // self.patch
        c = self.t_embed(timestep_features(c_noise, self.time_features))
        if self.num_classes > 0 and labels is not None:
            c = c + self.label_embed(one_hot(labels, self.num_classes))
        h = self.x_embed(x).flatten(2).transpose(1, 2) + self.pos
        for block in self.blocks:
            h = block(h, c)
        m = self.final_ada(F.silu(c))[:, None].chunk(2, dim=2)
        t = self.final(modulate(h, m[0], m[1]))  # [n, g·g, p·p·ch], each token's pixels row by row, channels last
        return t.reshape(n, g, g, p, p, ch).permute(0, 5, 1, 3, 2, 4).reshape(n, ch, g * p, g * p)


# ------------------------------------------------------------------------------------------------- loading, denoising

KINDS = {"mlp": Mlp, "unet": UNet, "dit": DiT}


def from_config(kind, config_json):
    """The network a checkpoint's "model" and "config" metadata describe, freshly initialised by PyTorch."""
    if kind not in KINDS:
        raise ValueError(f"model kind '{kind}' has no PyTorch definition here (known: {', '.join(KINDS)})")
    config = json.loads(config_json)
    if kind == "dit":
        config.pop("tokens", None)  # DiffKernels records the token count too; it follows from the image size and patch
    return KINDS[kind](**config)


def load_checkpoint(path):
    """(network with the checkpoint's weights, loaded by name and strictly, metadata)."""
    tensors, metadata = load_safetensors(path)
    net = from_config(metadata["model"], metadata["config"])
    net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("train.")}, strict=True)
    return net.eval(), metadata


def denoise(net, x, sigma, labels=None, sigma_data=0.5):
    """EDM's D(x; σ) = c_skip·x + c_out·F(c_in·x; ln σ / 4, label), σ one value per sample."""
    s = sigma.reshape(-1, *([1] * (x.dim() - 1)))
    total = s * s + sigma_data ** 2
    f = net(x / total.sqrt(), sigma.log() / 4, labels)
    return (sigma_data ** 2 / total) * x + (s * sigma_data / total.sqrt()) * f
