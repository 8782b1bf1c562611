#!/usr/bin/env python3
"""An independent reference of Hugging Face's T5 (T5ForConditionalGeneration) in
PyTorch, written from transformers' semantics, not from the Go code, for the parity
tests of package hf. transformers itself is not needed (nor installed).

    t5_reference.py make DIR [--flavour v1.0|v1.1] [--dtype F32|BF16|F16] [--dup-embed]
                     [--encoder-layers N] [--decoder-layers N] [--shards K] [--seed S] ...
        writes a Hugging Face T5 folder with random weights: config.json and
        model.safetensors (or K shards with model.safetensors.index.json).
    t5_reference.py run DIR --input-ids 5,6,1 [--target-ids 8,1] [--max-len N]
        prints {"logprobs": [...], "ids": [...]}: the target's per-token
        log-probabilities under teacher forcing (decoder start 0), and the greedy
        output (stopping after EOS 1, which it includes).

The model follows transformers' modeling_t5.py: T5LayerNorm is an RMS norm computed
in float32 with a weight and no bias; attention scores are not scaled; the relative
position bias is computed by layer 0 of each stack and shared by the others,
bidirectional buckets in the encoder and causal ones in the decoder, none in the
cross-attention; the feed-forward is ReLU (v1.0) or gated tanh-GELU (gelu_new, v1.1);
the tied LM head rescales by d_model**-0.5. Dropout is off (inference).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
NAMES = {v: k for k, v in DTYPES.items()}


# ---------- safetensors, by hand (the safetensors package is not needed) ----------

def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        b = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype != torch.float32 else t.contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        b, e = h["data_offsets"]
        buf = bytearray(data[base + b:base + e])
        t = torch.frombuffer(buf, dtype=DTYPES[h["dtype"]]) if buf else torch.zeros(0, dtype=DTYPES[h["dtype"]])
        out[name] = t.reshape(h["shape"]).to(torch.float32)
    return out


def read_folder(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return cfg, read_safetensors(os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "model.safetensors.index.json")) as f:
        index = json.load(f)
    w = {}
    for shard in sorted(set(index["weight_map"].values())):
        w.update(read_safetensors(os.path.join(d, shard)))
    return cfg, w


# ---------- the model ----------

def rms_norm(x, w, eps):
    var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def bucket(rel, bidirectional, num_buckets, max_distance):
    # transformers' T5Attention._relative_position_bucket
    ret = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        ret += (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    small = rel < max_exact
    large = max_exact + (
        torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return ret + torch.where(small, rel, large)


def position_bias(table, qlen, klen, bidirectional, cfg):
    ctx = torch.arange(qlen, dtype=torch.long)[:, None]
    mem = torch.arange(klen, dtype=torch.long)[None, :]
    b = bucket(mem - ctx, bidirectional, cfg["relative_attention_num_buckets"], cfg.get("relative_attention_max_distance", 128))
    return table[b].permute(2, 0, 1)  # heads, q, k


def attention(x, mem, w, p, heads, dkv, bias):
    q = (x @ w[p + ".q.weight"].T).view(x.shape[0], heads, dkv).transpose(0, 1)
    k = (mem @ w[p + ".k.weight"].T).view(mem.shape[0], heads, dkv).transpose(0, 1)
    v = (mem @ w[p + ".v.weight"].T).view(mem.shape[0], heads, dkv).transpose(0, 1)
    scores = q @ k.transpose(1, 2)  # no 1/sqrt(d) scaling in T5
    if bias is not None:
        scores = scores + bias
    a = torch.softmax(scores.float(), dim=-1)
    o = (a @ v).transpose(0, 1).reshape(x.shape[0], heads * dkv)
    return o @ w[p + ".o.weight"].T


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def ffn(x, w, p, proj):
    gated = proj.startswith("gated-")
    act = proj.split("-")[-1]
    f = {"relu": torch.relu, "gelu": gelu_new if proj == "gated-gelu" else None, "gelu_new": gelu_new,
         "silu": torch.nn.functional.silu}[act]
    if gated:
        h = f(x @ w[p + ".wi_0.weight"].T) * (x @ w[p + ".wi_1.weight"].T)
    else:
        h = f(x @ w[p + ".wi.weight"].T)
    return h @ w[p + ".wo.weight"].T


class T5:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.heads, self.dkv = cfg["num_heads"], cfg["d_kv"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-6)
        self.proj = cfg.get("feed_forward_proj", "relu")
        self.tied = cfg.get("tie_word_embeddings", True)
        self.enc_layers = cfg["num_layers"]
        self.dec_layers = cfg.get("num_decoder_layers") or cfg["num_layers"]

    def encode(self, ids):
        w, x = self.w, self.w["shared.weight"][ids]
        bias = position_bias(w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], len(ids), len(ids), True, self.cfg)
        for i in range(self.enc_layers):
            p = "encoder.block.%d.layer." % i
            h = rms_norm(x, w[p + "0.layer_norm.weight"], self.eps)
            x = x + attention(h, h, w, p + "0.SelfAttention", self.heads, self.dkv, bias)
            x = x + ffn(rms_norm(x, w[p + "1.layer_norm.weight"], self.eps), w, p + "1.DenseReluDense", self.proj)
        return rms_norm(x, w["encoder.final_layer_norm.weight"], self.eps)

    def decode(self, enc, dec_ids):
        w, x = self.w, self.w["shared.weight"][dec_ids]
        n = len(dec_ids)
        bias = position_bias(w["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], n, n, False, self.cfg)
        causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        bias = bias + causal
        for i in range(self.dec_layers):
            p = "decoder.block.%d.layer." % i
            h = rms_norm(x, w[p + "0.layer_norm.weight"], self.eps)
            x = x + attention(h, h, w, p + "0.SelfAttention", self.heads, self.dkv, bias)
            h = rms_norm(x, w[p + "1.layer_norm.weight"], self.eps)
            x = x + attention(h, enc, w, p + "1.EncDecAttention", self.heads, self.dkv, None)
            x = x + ffn(rms_norm(x, w[p + "2.layer_norm.weight"], self.eps), w, p + "2.DenseReluDense", self.proj)
        x = rms_norm(x, w["decoder.final_layer_norm.weight"], self.eps)
        if self.tied:
            x = x * (self.cfg["d_model"] ** -0.5)
            return x @ w["shared.weight"].T
        return x @ w["lm_head.weight"].T

    def logprobs(self, inp, tgt):
        enc = self.encode(torch.tensor(inp))
        logits = self.decode(enc, torch.tensor([0] + tgt[:-1]))
        lp = torch.log_softmax(logits.double(), dim=-1)
        return [lp[i, t].item() for i, t in enumerate(tgt)]

    def greedy(self, inp, max_len):
        enc = self.encode(torch.tensor(inp))
        out = []
        while len(out) < max_len:
            logits = self.decode(enc, torch.tensor([0] + out))
            nxt = int(torch.argmax(logits[-1]).item())
            out.append(nxt)
            if nxt == 1:
                break
        return out


# ---------- random HF folders ----------

def make(a):
    g = torch.Generator().manual_seed(a.seed)
    gated = a.flavour == "v1.1"
    cfg = {
        "architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "vocab_size": a.vocab,
        "d_model": a.d_model, "d_kv": a.d_kv, "d_ff": a.d_ff, "num_layers": a.encoder_layers,
        "num_decoder_layers": a.decoder_layers, "num_heads": a.heads,
        "relative_attention_num_buckets": a.buckets, "relative_attention_max_distance": a.max_distance,
        "dropout_rate": 0.1, "layer_norm_epsilon": 1e-6, "initializer_factor": 1.0,
        "feed_forward_proj": "gated-gelu" if gated else "relu", "tie_word_embeddings": not gated,
        "is_encoder_decoder": True, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0,
    }
    d, inner = a.d_model, a.heads * a.d_kv

    def r(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std

    w = {"shared.weight": r(a.vocab, d)}
    for stack, n in (("encoder", a.encoder_layers), ("decoder", a.decoder_layers)):
        for i in range(n):
            p = "%s.block.%d.layer." % (stack, i)
            subs = [("0", "SelfAttention")] + ([("1", "EncDecAttention")] if stack == "decoder" else [])
            for k, name in subs:
                for m in "qkv":
                    w[p + k + "." + name + "." + m + ".weight"] = r(inner, d, std=d ** -0.5)
                w[p + k + "." + name + ".o.weight"] = r(d, inner, std=inner ** -0.5)
                if i == 0 and name == "SelfAttention":
                    w[p + k + "." + name + ".relative_attention_bias.weight"] = r(a.buckets, a.heads, std=0.5)
                w[p + k + ".layer_norm.weight"] = 1 + r(d, std=0.1)
            f = "2" if stack == "decoder" else "1"
            if gated:
                w[p + f + ".DenseReluDense.wi_0.weight"] = r(a.d_ff, d, std=d ** -0.5)
                w[p + f + ".DenseReluDense.wi_1.weight"] = r(a.d_ff, d, std=d ** -0.5)
            else:
                w[p + f + ".DenseReluDense.wi.weight"] = r(a.d_ff, d, std=d ** -0.5)
            w[p + f + ".DenseReluDense.wo.weight"] = r(d, a.d_ff, std=a.d_ff ** -0.5)
            w[p + f + ".layer_norm.weight"] = 1 + r(d, std=0.1)
        w[stack + ".final_layer_norm.weight"] = 1 + r(d, std=0.1)
    if not gated:
        # the original T5 checkpoints carry an unused cross-attention bias
        w["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] = r(a.buckets, a.heads)
    else:
        w["lm_head.weight"] = r(a.vocab, d, std=d ** -0.5)
    if a.eos_boost != 1.0:
        head = "shared.weight" if not gated else "lm_head.weight"
        w[head][1] *= a.eos_boost  # makes greedy decoding reach EOS within a few tokens
    if a.dup_embed:
        w["encoder.embed_tokens.weight"] = w["shared.weight"].clone()
        w["decoder.embed_tokens.weight"] = w["shared.weight"].clone()
    w = {k: v.to(DTYPES[a.dtype]) for k, v in w.items()}
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    names = list(w)
    if a.shards <= 1:
        write_safetensors(os.path.join(a.dir, "model.safetensors"), w, {"format": "pt"})
        return
    per = (len(names) + a.shards - 1) // a.shards
    wm = {}
    for s in range(a.shards):
        fn = "model-%05d-of-%05d.safetensors" % (s + 1, a.shards)
        part = {k: w[k] for k in names[s * per:(s + 1) * per]}
        write_safetensors(os.path.join(a.dir, fn), part, {"format": "pt"})
        wm.update({k: fn for k in part})
    with open(os.path.join(a.dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": wm}, f, indent=2)


def ids(s):
    return [int(x) for x in s.replace(",", " ").split()]


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("--flavour", choices=["v1.0", "v1.1"], default="v1.0")
    m.add_argument("--dtype", choices=list(DTYPES), default="F32")
    m.add_argument("--dup-embed", action="store_true")
    m.add_argument("--vocab", type=int, default=160)
    m.add_argument("--d-model", type=int, default=16)
    m.add_argument("--d-kv", type=int, default=4)
    m.add_argument("--heads", type=int, default=3)
    m.add_argument("--d-ff", type=int, default=24)
    m.add_argument("--encoder-layers", type=int, default=2)
    m.add_argument("--decoder-layers", type=int, default=3)
    m.add_argument("--buckets", type=int, default=8)
    m.add_argument("--max-distance", type=int, default=16)
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--eos-boost", type=float, default=1.0)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--input-ids", required=True)
    r.add_argument("--target-ids", default="")
    r.add_argument("--max-len", type=int, default=16)
    sub.add_parser("batch", help="read {\"make\": [[ARGS...]], \"run\": [[ARGS...]]} on stdin: several makes and runs in one process")
    torch.set_grad_enabled(False)
    a = ap.parse_args()
    if a.cmd != "batch":
        print(json.dumps(dispatch(a)))
        return
    job = json.load(sys.stdin)
    for args in job.get("make") or []:
        dispatch(ap.parse_args(["make"] + args))
    print(json.dumps([dispatch(ap.parse_args(["run"] + args)) for args in job.get("run") or []]))


def dispatch(a):
    if a.cmd == "make":
        make(a)
        return None
    cfg, w = read_folder(a.dir)
    model = T5(cfg, w)
    out = {"ids": model.greedy(ids(a.input_ids), a.max_len)}
    if a.target_ids:
        out["logprobs"] = model.logprobs(ids(a.input_ids), ids(a.target_ids))
    return out


if __name__ == "__main__":
    main()
