"""Test harness for worker_test.go, in one interpreter (a torch import
costs seconds). argv[1] is the worker script; stdin a JSON list of cases,
each a list of requests for a fresh Worker. Prints one JSON object:

  "cases": per case, the error message of the request that failed ("" when
  none did);
  "reference": worker.py's paged, chunked forward pass against a plain
  reference (the whole sequence at once, no cache, GQA by repeating K and
  V, attention written out with einsum): the largest absolute logit
  difference per check, and "scale", the largest logit."""
import importlib.util
import json
import math
import sys
import types

import torch
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


def run_cases(cases):
    out = []
    for case in cases:
        w = worker.Worker()
        err = ""
        try:
            for req in case:
                w.handle(req)
        except worker.WorkerError as e:
            err = str(e)
        out.append(err)
    return out


cases_out = run_cases(json.load(sys.stdin))

W = worker.Worker()
W.init({"op": "init", "model": "tiny", "device": "cpu", "seed": 11, "kv_blocks": 64, "block_size": 4})
m, s = W.model, W.model.s


def reference(seq, n):
    """Last-token logits of the first n tokens of seq."""
    pos = torch.arange(n)
    x = m.embed[W.id_pool[(seq * 7919 + pos) % W.id_pool.numel()]]
    f = pos.float()[:, None] * m.inv_freq[None, :]
    emb = torch.cat((f, f), -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]

    def rope(t):
        h = t.shape[-1] // 2
        return t * cos + torch.cat((-t[..., h:], t[..., :h]), -1) * sin

    def rms(t, w):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + s["eps"]) * w

    for L in m.layers:
        h = rms(x, L["attn_norm"])
        qkv = h @ L["qkv"].t()
        q = rope(qkv[:, :m.q_dim].reshape(n, s["heads"], -1))
        k = rope(qkv[:, m.q_dim:m.q_dim + m.kv_dim].reshape(n, s["kv_heads"], -1)).repeat_interleave(m.group, dim=1)
        v = qkv[:, m.q_dim + m.kv_dim:].reshape(n, s["kv_heads"], -1).repeat_interleave(m.group, dim=1)
        sc = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(s["head_dim"])
        sc = sc.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        o = torch.einsum("hqk,khd->qhd", sc.softmax(-1), v).reshape(n, -1)
        x = x + o @ L["o"].t()
        h = rms(x, L["mlp_norm"])
        gu = h @ L["gate_up"].t()
        x = x + (F.silu(gu[:, :s["mlp"]]) * gu[:, s["mlp"]:]) @ L["down"].t()
    return (rms(x[-1:], m.norm) @ m.lm_head.t())[0]


def diff(got, seq, n):
    return float((torch.tensor(got) - reference(seq, n)).abs().max())


def schedule(w, tag, out):
    # chunks of 9 then 4 (crossing block boundaries) beside another sequence
    w.run_step([(5, 9, 0), (6, 3, 0)], [], [])
    r = w.run_step([(5, 4, 9)], [(6, 3)], [], True)
    out[tag + "chunk over cache"] = diff(r["logits"][0], 5, 13)
    out[tag + "decode beside a chunk"] = diff(r["logits"][1], 6, 4)
    r = w.run_step([], [(5, 13), (6, 4)], [], True)
    out[tag + "decodes of unequal length"] = max(diff(r["logits"][0], 5, 14), diff(r["logits"][1], 6, 5))
    # recompute: free and prefill from 0 in one step, blocks reused
    r = w.run_step([(5, 14, 0)], [], [5], True)
    out[tag + "recompute"] = diff(r["logits"][0], 5, 14)


out = {}
schedule(W, "", out)
out["scale"] = float(reference(5, 14).abs().max())


# The GPU path (scaled_dot_product_attention with or without enable_gqa and
# causal_lower_right) cannot run here: torch 1.13 has none of them. Its
# plumbing (shapes, transposes, masks) is checked on the CPU against a
# stand-in with PyTorch's documented semantics: a boolean attn_mask marks
# the keys that take part; is_causal is the top-left causal mask;
# enable_gqa repeats each KV head over its group of query heads;
# causal_lower_right(L, S) is the causal mask aligned to the bottom right.
class LowerRight:
    def __init__(self, L, S):
        self.L, self.S = L, S


def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if enable_gqa:
        k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
        v = v.repeat_interleave(q.shape[-3] // v.shape[-3], dim=-3)
    if k.shape[-3] != q.shape[-3]:
        raise RuntimeError("query and key heads differ without enable_gqa")
    L, S = q.shape[-2], k.shape[-2]
    sc = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        assert attn_mask is None
        sc = sc.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if isinstance(attn_mask, LowerRight):
        assert (attn_mask.L, attn_mask.S) == (L, S)
        attn_mask = torch.ones(L, S, dtype=torch.bool).tril(diagonal=S - L)
    if attn_mask is not None:
        assert attn_mask.dtype == torch.bool
        sc = sc.masked_fill(~attn_mask, float("-inf"))
    return sc.softmax(-1) @ v


bias = types.ModuleType("torch.nn.attention.bias")
bias.causal_lower_right = LowerRight
sys.modules.setdefault("torch.nn.attention", types.ModuleType("torch.nn.attention"))
sys.modules["torch.nn.attention.bias"] = bias
worker.F.scaled_dot_product_attention = sdpa
for gqa in (False, True):
    for lower_right in (False, True):
        w = worker.Worker()
        w.init({"op": "init", "model": "tiny", "device": "cpu", "seed": 11, "kv_blocks": 64, "block_size": 4})
        w.model.use_sdpa, w.model.gqa_kw, w.model.lower_right = True, gqa, lower_right
        schedule(w, "sdpa gqa=%s lower_right=%s: " % (gqa, lower_right), out)


# check_sdpa (run at init on a GPU) against the stand-in: it passes with
# each option on and off, and stops a kernel whose bottom-right mask is
# aligned top-left, or whose GQA groups KV heads the other way round.
# choose_attention then steps down to the setting that passes ("chosen").
chosen = {}


def self_check(gqa, lower_right, name=None):
    w = worker.Worker()
    w.init({"op": "init", "model": "tiny", "device": "cpu", "seed": 11, "kv_blocks": 64, "block_size": 4})
    m = w.model
    m.use_sdpa, m.gqa_kw, m.lower_right = True, gqa, lower_right
    try:
        m.check_sdpa()
        return ""
    except Exception as e:
        return str(e)
    finally:
        m.use_sdpa, m.gqa_kw, m.lower_right = True, gqa, lower_right
        m.choose_attention()
        chosen[name or "gqa=%s lower_right=%s" % (gqa, lower_right)] = m.attention_kind()


selfcheck = {}
for gqa in (False, True):
    for lower_right in (False, True):
        selfcheck["gqa=%s lower_right=%s" % (gqa, lower_right)] = self_check(gqa, lower_right)
bias.causal_lower_right = lambda L, S: torch.ones(L, S, dtype=torch.bool).tril()
selfcheck["lower_right aligned top-left"] = self_check(True, True, "lower_right aligned top-left")
bias.causal_lower_right = LowerRight


def sdpa_gqa_tiled(q, k, v, enable_gqa=False, **kw):
    if enable_gqa:  # query head h on KV head h % kv_heads: not PyTorch's grouping
        k = k.repeat(*([1] * (k.dim() - 3)), q.shape[-3] // k.shape[-3], 1, 1)
        v = v.repeat(*([1] * (v.dim() - 3)), q.shape[-3] // v.shape[-3], 1, 1)
    return sdpa(q, k, v, **kw)


worker.F.scaled_dot_product_attention = sdpa_gqa_tiled
selfcheck["enable_gqa grouped the other way"] = self_check(True, True, "enable_gqa grouped the other way")


def sdpa_broken(*a, **kw):
    raise RuntimeError("no kernel")


worker.F.scaled_dot_product_attention = sdpa_broken
self_check(True, True, "every call raises")
worker.F.scaled_dot_product_attention = sdpa
json.dump({"cases": cases_out, "reference": out, "selfcheck": selfcheck, "chosen": chosen}, sys.stdout)
