#!/usr/bin/env python3
"""schedlab gpu worker: real forward passes of a Llama-shaped decoder for the
batches that schedlab's Go scheduler (lab/sched) forms.

It speaks a line protocol, one JSON object per line, on stdin/stdout; stderr
carries its log. Requests and answers (all answers carry "ok": true):

  {"op": "init", "model": "llama-3-8b" | "llama-2-7b" | "tiny",
   "device": "auto" | "cuda" | "cpu", "dtype": "" | "bfloat16" | "float16" | "float32",
   "seed": 1, "kv_blocks": 0, "block_size": 16, "gpu_memory_utilization": 0.9,
   "checkpoint": ""}
      -> {"device": "cuda", "device_name": "NVIDIA H200", "dtype": "bfloat16",
          "torch": "2.11.0", "cuda": "13.0", "kv_blocks": N, "block_size": 16,
          "params": P, "kv_bytes_per_token": B,
          "attention": "matmul" | "sdpa[,enable_gqa][,causal_lower_right]"}
  {"op": "probe", "device": "auto", "model": "tiny"}  (before or instead of init)
      -> {"device": ..., "device_name": ..., "torch": ..., "cuda": ..., "dtype": ...}
  {"op": "step", "prefills": [[seq, new_tokens, cached], ...],
   "decodes": [[seq, cached], ...] (or [seq, ...]), "free": [seq, ...]}
      -> {"ms": measured forward time, "wall_ms": host wall time, "tokens": n,
          "kv_blocks_used": k}   ("want_logits": true adds each sequence's
          last-token logits, for tests)
  {"op": "shutdown"} -> {} and exit 0

"free" is applied first (sequences preempted for recompute, or finished
earlier), then one forward pass runs every prefill chunk and decode together.
Errors answer {"ok": false, "error": "..."} and exit with status 2.

The KV cache is real and paged, as in vLLM: one pool [layers, 2, kv_blocks,
block_size, kv_heads, head_dim] allocated at init, a block table per
sequence, blocks taken as a sequence grows and returned when it is freed.
A prefill chunk of q new tokens over c cached ones writes its keys and values
into its blocks and attends causally over the c + q keys; the decodes of a
step write theirs and attend, in one batched call, each over its whole cache
plus itself. Without a paged-attention kernel, attention gathers a sequence's
blocks into a contiguous tensor first (one gather per chunk and one for all
decodes, per layer): a copy that a fused kernel would not make. The worker checks the bookkeeping of the scheduler:
a chunk's cached count must equal what the worker holds for that sequence,
a decode needs a non-empty cache, a sequence appears at most once per step,
only held sequences are freed, and the blocks held (ceil(tokens/block_size)
per sequence) never exceed kv_blocks.

Timing: CUDA events around the forward pass on a GPU (kernel time as the
device saw it, host launch gaps included), time.perf_counter on the CPU.
The step's index tensors (positions, slots, block tables) are built and
copied before the first event, so their host work and stream syncs are not
in "ms"; "wall_ms" covers both. On a GPU, init first checks the SDPA paths
against the matmul ones with the model's head counts (check_sdpa).
Token ids are pseudo-random and seeded (content does not change timing).
"""

import json
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # pragma: no cover - reported to the Go side
    sys.stdout.write(json.dumps({"ok": False, "error": "cannot import torch with %s: %s" % (sys.executable, e)}) + "\n")
    sys.stdout.flush()
    sys.exit(3)

PROTOCOL = 1

# Model shapes (Hugging Face configs of the public checkpoints; tiny is ours).
SHAPES = {
    "llama-3-8b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, mlp=14336,
                       vocab=128256, rope_theta=500000.0, eps=1e-5),
    "llama-2-7b": dict(layers=32, hidden=4096, heads=32, kv_heads=32, head_dim=128, mlp=11008,
                       vocab=32000, rope_theta=10000.0, eps=1e-5),
    "tiny": dict(layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, mlp=128,
                 vocab=512, rope_theta=10000.0, eps=1e-5),
}

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


class WorkerError(Exception):
    """An error to report to the Go side as one JSON line."""


def log(msg):
    sys.stderr.write("gpu-worker: %s\n" % msg)
    sys.stderr.flush()


def resolve_device(name):
    if name in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise WorkerError("device cuda requested but torch.cuda.is_available() is False "
                              "(torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
        return "cuda"
    if name == "cpu":
        return "cpu"
    raise WorkerError("unknown device %r: expected auto, cuda or cpu" % name)


def device_info(dev):
    info = {"device": dev, "torch": torch.__version__, "cuda": torch.version.cuda or ""}
    if dev == "cuda":
        info["device_name"] = torch.cuda.get_device_name(0)
        info["device_memory"] = torch.cuda.get_device_properties(0).total_memory
    else:
        info["device_name"] = "cpu"
    return info


def causal_lower_right_available():
    try:
        from torch.nn.attention.bias import causal_lower_right  # noqa: F401  (torch >= 2.3)
        return True
    except Exception:
        return False


class Model:
    """A Llama-shaped decoder with random (seeded) or checkpoint weights."""

    def __init__(self, shape, dev, dtype, seed, checkpoint):
        self.s = shape
        self.dev = dev
        self.dtype = dtype
        s = shape
        self.q_dim = s["heads"] * s["head_dim"]
        self.kv_dim = s["kv_heads"] * s["head_dim"]
        self.group = s["heads"] // s["kv_heads"]
        gen = torch.Generator(device=dev)
        gen.manual_seed(seed)

        def rand(*size):
            t = torch.empty(*size, device=dev, dtype=dtype)
            # normal_ with a generator works for every dtype on cuda and cpu
            t.normal_(0.0, 0.02, generator=gen)
            return t

        def ones(n):
            return torch.ones(n, device=dev, dtype=dtype)

        H = s["hidden"]
        self.embed = rand(s["vocab"], H)
        self.layers = []
        for _ in range(s["layers"]):
            self.layers.append(dict(
                attn_norm=ones(H),
                qkv=rand(self.q_dim + 2 * self.kv_dim, H),
                o=rand(H, self.q_dim),
                mlp_norm=ones(H),
                gate_up=rand(2 * s["mlp"], H),
                down=rand(H, s["mlp"]),
            ))
        self.norm = ones(H)
        self.lm_head = rand(s["vocab"], H)
        if checkpoint:
            self.load_checkpoint(checkpoint)
        self.params = sum(t.numel() for t in self.tensors())
        inv = 1.0 / (s["rope_theta"] ** (torch.arange(0, s["head_dim"], 2, device=dev, dtype=torch.float32) / s["head_dim"]))
        self.inv_freq = inv
        # On a GPU, PyTorch's fused attention (torch >= 2.0), with what this
        # torch supports found by trying: GQA without copying K and V
        # (enable_gqa, torch >= 2.5) and a bottom-right causal mask for a
        # chunk over a cache (causal_lower_right, torch >= 2.3). Otherwise
        # matmul attention (CPU, torch 1.x).
        self.use_sdpa = hasattr(F, "scaled_dot_product_attention") and dev == "cuda"
        self.gqa_kw = self.use_sdpa and self.group > 1 and self.sdpa_works(gqa=True)
        self.lower_right = self.use_sdpa and causal_lower_right_available() and self.sdpa_works(gqa=self.gqa_kw, lower_right=True)
        if self.use_sdpa:
            self.choose_attention()

    def attention_kind(self):
        """What the init answer says about attention (recorded in gpu.json)."""
        if not self.use_sdpa:
            return "matmul"
        return "sdpa" + "".join(",%s" % k for k, on in (("enable_gqa", self.gqa_kw), ("causal_lower_right", self.lower_right)) if on)

    def sdpa_works(self, gqa=False, lower_right=False):
        """Whether this torch runs scaled_dot_product_attention with these
        options (a chunk of 2 queries over 3 keys, 2 query heads per KV head)."""
        try:
            q = torch.zeros(1, 2, 2, 8, device=self.dev, dtype=self.dtype)
            k = torch.zeros(1, 1 if gqa else 2, 3, 8, device=self.dev, dtype=self.dtype)
            kw = {"enable_gqa": True} if gqa else {}
            if lower_right:
                from torch.nn.attention.bias import causal_lower_right
                kw["attn_mask"] = causal_lower_right(2, 3)
            F.scaled_dot_product_attention(q, k, k, **kw)
            return True
        except Exception as e:
            log("scaled_dot_product_attention(enable_gqa=%s, causal_lower_right=%s) unsupported, using a fallback: %s"
                % (gqa, lower_right, e))
            return False

    def choose_attention(self):
        """Keeps the first SDPA setting that passes check_sdpa: as probed,
        then without causal_lower_right (a boolean mask), then without
        enable_gqa (K and V repeated), else matmul attention. Each step
        down is logged and the init answer's "attention" says what ran,
        so a torch whose fast path misbehaves still gives a (slower,
        labelled) run rather than none."""
        for drop in ("", "lower_right", "gqa_kw"):
            if drop:
                setattr(self, drop, False)
            try:
                self.check_sdpa()
                return
            except Exception as e:
                log("attention %s rejected: %s: %s" % (self.attention_kind(), type(e).__name__, e))
        self.use_sdpa = False
        log("attention: matmul (no scaled_dot_product_attention setting passed the check)")

    def check_sdpa(self):
        """Runs the SDPA attention paths on this device with the model's head
        counts (a first chunk, a chunk over a cache, a lone token, padded
        decodes) against the matmul path, which the CPU tests check against
        a plain reference: a kernel that computed something else (a mask
        aligned top-left, heads grouped wrongly) is caught here rather than
        timing wrong attention (choose_attention then steps down)."""
        s = self.s
        kvh, d = s["kv_heads"], s["head_dim"]
        g = torch.Generator(device=self.dev)
        g.manual_seed(1234)

        def rnd(*size):
            return torch.randn(*size, device=self.dev, dtype=torch.float32, generator=g).to(self.dtype)

        checks = []  # (what, attention function, its arguments)
        for n, cached in ((7, 0), (5, 11), (1, 9)):
            checks.append(("a chunk of %d over %d cached" % (n, cached), self.attend_one,
                           (rnd(n, s["heads"], d), rnd(kvh, cached + n, d), rnd(kvh, cached + n, d), cached)))
        checks.append(("3 decodes over 3, 12 and 1 keys", self.attend_decodes,
                       (rnd(3, s["heads"], d), rnd(3, kvh, 12, d), rnd(3, kvh, 12, d), torch.tensor([3, 12, 1], device=self.dev))))
        for what, f, args in checks:
            got = f(*args)
            self.use_sdpa = False
            try:
                want = f(*args)
            finally:
                self.use_sdpa = True
            err = float((got.float() - want.float()).abs().max())
            if not err < 0.1:  # bf16 rounding is ~1e-2 here; a wrong mask or grouping is ~0.5
                raise WorkerError("scaled_dot_product_attention (%s) differs from matmul attention by %g on %s (torch %s): "
                                  "not trusted for timing" % (self.attention_kind(), err, what, torch.__version__))

    def tensors(self):
        yield self.embed
        for l in self.layers:
            yield from l.values()
        yield self.norm
        yield self.lm_head

    def load_checkpoint(self, path):
        """Loads Hugging Face Llama weights (model.layers.N.self_attn.q_proj.weight ...)
        from a .safetensors file or a folder of them."""
        import glob
        import os
        try:
            from safetensors import safe_open
        except Exception as e:
            raise WorkerError("checkpoint %s given but the python package safetensors is not importable "
                              "with %s (%s); install it or remove checkpoint" % (path, sys.executable, e))
        if os.path.isdir(path):
            files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
        elif os.path.isfile(path):
            files = [path]
        else:
            raise WorkerError("checkpoint %s: no such file or folder" % path)
        if not files:
            raise WorkerError("checkpoint %s: no *.safetensors file in the folder" % path)
        found = {}
        for f in files:
            with safe_open(f, framework="pt", device="cpu") as sf:
                for k in sf.keys():
                    found[k] = (f, sf.get_tensor(k))
        s = self.s

        def take(name, shape):
            if name not in found:
                raise WorkerError("checkpoint %s: tensor %s missing" % (path, name))
            f, t = found[name]
            if tuple(t.shape) != tuple(shape):
                raise WorkerError("checkpoint %s: tensor %s has shape %s, the %s shape needs %s"
                                  % (f, name, list(t.shape), "model", list(shape)))
            return t.to(device=self.dev, dtype=self.dtype)

        H = s["hidden"]
        self.embed = take("model.embed_tokens.weight", (s["vocab"], H))
        for i, l in enumerate(self.layers):
            p = "model.layers.%d." % i
            l["attn_norm"] = take(p + "input_layernorm.weight", (H,))
            l["qkv"] = torch.cat([take(p + "self_attn.q_proj.weight", (self.q_dim, H)),
                                  take(p + "self_attn.k_proj.weight", (self.kv_dim, H)),
                                  take(p + "self_attn.v_proj.weight", (self.kv_dim, H))])
            l["o"] = take(p + "self_attn.o_proj.weight", (H, self.q_dim))
            l["mlp_norm"] = take(p + "post_attention_layernorm.weight", (H,))
            l["gate_up"] = torch.cat([take(p + "mlp.gate_proj.weight", (s["mlp"], H)),
                                      take(p + "mlp.up_proj.weight", (s["mlp"], H))])
            l["down"] = take(p + "mlp.down_proj.weight", (H, s["mlp"]))
        self.norm = take("model.norm.weight", (H,))
        if "lm_head.weight" in found:
            self.lm_head = take("lm_head.weight", (s["vocab"], H))
        else:  # tied embeddings
            self.lm_head = self.embed

    def rms(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.s["eps"])).to(x.dtype) * w

    def rope_tables(self, pos):
        """cos and sin [T, 1, d] at absolute positions pos [T], once per step."""
        f = pos.float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat((f, f), dim=-1)
        return emb.cos()[:, None, :].to(self.dtype), emb.sin()[:, None, :].to(self.dtype)

    def rope(self, x, cos, sin):
        # x [T, heads, d]; rotate-half RoPE (Hugging Face Llama's)
        h = x.shape[-1] // 2
        rot = torch.cat((-x[..., h:], x[..., :h]), dim=-1)
        return x * cos + rot * sin

    def attend_one(self, q, k, v, cached):
        """q [n, heads, d] over k, v [kv_heads, L, d] with L = cached + n, causal."""
        n = q.shape[0]
        L = k.shape[1]
        d = q.shape[-1]
        if self.use_sdpa:
            qh = q.transpose(0, 1).unsqueeze(0)  # [1, heads, n, d]
            kh, vh = k.unsqueeze(0), v.unsqueeze(0)
            kw = {}
            if self.group > 1:
                if self.gqa_kw:
                    kw["enable_gqa"] = True
                else:
                    kh = kh.repeat_interleave(self.group, dim=1)
                    vh = vh.repeat_interleave(self.group, dim=1)
            if n == 1:
                o = F.scaled_dot_product_attention(qh, kh, vh, **kw)
            elif cached == 0:
                o = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True, **kw)
            elif self.lower_right:
                from torch.nn.attention.bias import causal_lower_right
                o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=causal_lower_right(n, L), **kw)
            else:
                mask = torch.ones(n, L, dtype=torch.bool, device=q.device).tril(diagonal=cached)
                o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask, **kw)
            return o[0].transpose(0, 1).reshape(n, -1)
        # Grouped matmul attention (CPU and torch < 2.0): no copy of K, V per group.
        kv = k.shape[0]
        qg = q.transpose(0, 1).reshape(kv, self.group * n, d)  # [kv, group*n, d]
        scores = torch.matmul(qg.float(), k.float().transpose(1, 2)) / math.sqrt(d)  # [kv, group*n, L]
        if n > 1:
            mask = torch.ones(n, L, dtype=torch.bool, device=q.device).tril(diagonal=cached)
            scores = scores.view(kv, self.group, n, L).masked_fill(~mask, float("-inf")).view(kv, self.group * n, L)
        p = torch.softmax(scores, dim=-1)
        o = torch.matmul(p, v.float()).to(q.dtype)  # [kv, group*n, d]
        return o.view(kv, self.group, n, d).reshape(self.s["heads"], n, d).transpose(0, 1).reshape(n, -1)

    def attend_decodes(self, q, K, V, lens):
        """B decode tokens: q [B, heads, d] over K, V [B, kv_heads, Lmax, d]
        (gathered from the paged cache, padded), valid lengths lens [B]."""
        B = q.shape[0]
        d = q.shape[-1]
        kvh = K.shape[1]
        Lmax = K.shape[2]
        valid = torch.arange(Lmax, device=q.device)[None, :] < lens[:, None]  # [B, Lmax]
        # The query heads of a KV head stand in the place of query positions:
        # [B, kv_heads, group, d] over [B, kv_heads, Lmax, d], no causal mask
        # (one token), only the padding mask. Plain multi-head attention, so
        # no enable_gqa: with a mask, GQA would leave only the math backend,
        # which copies K and V group times in float32 every layer.
        qg = q.reshape(B, kvh, self.group, d)
        if self.use_sdpa:
            o = F.scaled_dot_product_attention(qg, K, V, attn_mask=valid[:, None, None, :])
            return o.reshape(B, -1)
        scores = torch.matmul(qg.float(), K.float().transpose(2, 3)) / math.sqrt(d)  # [B, kv, group, Lmax]
        scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
        p = torch.softmax(scores, dim=-1)
        o = torch.matmul(p, V.float()).to(q.dtype)  # [B, kv, group, d]
        return o.reshape(B, -1)


class Worker:
    def __init__(self):
        self.model = None
        self.seqs = {}  # seq -> [block ids], tokens held
        self.free_blocks = []  # a stack: deterministic reuse

    # --- protocol -----------------------------------------------------------
    def handle(self, req):
        op = req.get("op")
        if op == "probe":
            dev = resolve_device(req.get("device", "auto"))
            info = device_info(dev)
            info["dtype"] = self.default_dtype(dev, req.get("dtype", ""))
            info["protocol"] = PROTOCOL
            return info
        if op == "init":
            return self.init(req)
        if op == "step":
            if self.model is None:
                raise WorkerError("step before init")
            return self.step(req)
        if op == "shutdown":
            return {}
        raise WorkerError("unknown op %r: expected probe, init, step or shutdown" % op)

    @staticmethod
    def default_dtype(dev, name):
        if name:
            if name not in DTYPES:
                raise WorkerError("unknown dtype %r: expected one of %s" % (name, ", ".join(sorted(DTYPES))))
            return name
        return "bfloat16" if dev == "cuda" else "float32"

    def init(self, req):
        if self.model is not None:
            raise WorkerError("init sent twice")
        name = req.get("model", "")
        if name not in SHAPES:
            raise WorkerError("unknown model shape %r: expected one of %s" % (name, ", ".join(sorted(SHAPES))))
        dev = resolve_device(req.get("device", "auto"))
        dtype_name = self.default_dtype(dev, req.get("dtype", ""))
        dtype = DTYPES[dtype_name]
        self.block_size = int(req.get("block_size", 16))
        if self.block_size < 1:
            raise WorkerError("block_size %d: expected >= 1" % self.block_size)
        seed = int(req.get("seed", 0))
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        self.dev = dev
        self.model = Model(SHAPES[name], dev, dtype, seed, req.get("checkpoint", ""))
        m = self.model
        s = m.s
        self.kv_bytes_per_token = s["layers"] * 2 * s["kv_heads"] * s["head_dim"] * torch.tensor([], dtype=dtype).element_size()
        kv_blocks = int(req.get("kv_blocks", 0))
        if kv_blocks < 0:
            raise WorkerError("kv_blocks %d: expected >= 0 (0 = size from gpu_memory_utilization)" % kv_blocks)
        if kv_blocks == 0:
            kv_blocks = self.auto_blocks(float(req.get("gpu_memory_utilization", 0.9)))
        self.kv_blocks = kv_blocks
        # The paged KV cache, token-major inside a block so that a gathered
        # block list is one contiguous [tokens, kv_heads, head_dim] run.
        try:
            self.pool = torch.empty(s["layers"], 2, kv_blocks, self.block_size, s["kv_heads"], s["head_dim"],
                                    device=dev, dtype=dtype)
        except RuntimeError as e:
            raise WorkerError("cannot allocate the KV cache of %d blocks x %d tokens (%d bytes): %s"
                              % (kv_blocks, self.block_size, kv_blocks * self.block_size * self.kv_bytes_per_token, e))
        self.free_blocks = list(range(kv_blocks - 1, -1, -1))
        # Token ids: a seeded pool indexed by (seq, position), so content is
        # reproducible and costs no host-to-device copy per step.
        g = torch.Generator(device="cpu")
        g.manual_seed(seed + 1)
        self.id_pool = torch.randint(0, s["vocab"], (8191,), generator=g).to(dev)
        self.warmup()
        info = device_info(dev)
        info.update(dtype=dtype_name, kv_blocks=kv_blocks, block_size=self.block_size, params=m.params,
                    kv_bytes_per_token=self.kv_bytes_per_token, protocol=PROTOCOL,
                    attention=m.attention_kind(),
                    init_seconds=round(time.perf_counter() - t0, 3))
        import os
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        log("init %s on %s (%s, torch %s), %d params, %d KV blocks of %d tokens, attention %s%s"
            % (name, info["device_name"], dtype_name, torch.__version__, m.params, kv_blocks,
               self.block_size, info["attention"], "" if visible is None else ", CUDA_VISIBLE_DEVICES=" + visible))
        return info

    def auto_blocks(self, util):
        """Like vLLM: what is left of util x device memory after the weights
        and an activation reserve, in blocks."""
        if not (0 < util <= 1):
            raise WorkerError("gpu_memory_utilization %g: expected in (0, 1]" % util)
        if self.dev != "cuda":
            return 4096  # CPU: a fixed budget (64k tokens at block size 16)
        total = torch.cuda.get_device_properties(0).total_memory
        used = torch.cuda.memory_allocated(0)
        reserve = 2 << 30  # activations of the largest step, allocator slack
        free = total * util - used - reserve
        blocks = int(free // (self.kv_bytes_per_token * self.block_size))
        if blocks < 1:
            raise WorkerError("no memory left for the KV cache: device %d bytes x %g, weights %d bytes"
                              % (total, util, used))
        return blocks

    def warmup(self):
        """A prefill, a chunk over a cache and a decode on a throwaway
        sequence (one block on the CPU, up to 512 tokens on a GPU), so that
        library initialisation (cuBLAS handles, kernel loading, allocator
        growth) is not timed in the first step."""
        a = max(1, self.block_size - 2)
        if self.dev == "cuda":  # shapes like a real step's, so the allocator and cuBLAS are warm
            a = max(1, min(512, self.kv_blocks * self.block_size - 2))
        self.run_step([(-1, a, 0)], [], [])
        self.run_step([(-1, 1, a)], [], [])
        self.run_step([], [(-1, a + 1)], [])
        self.run_step([], [], [-1])
        if self.dev == "cuda":
            torch.cuda.synchronize()

    def blocks(self, n):
        return (n + self.block_size - 1) // self.block_size

    @staticmethod
    def as_int(v, what):
        if isinstance(v, bool) or not isinstance(v, int):
            raise WorkerError("%s: expected an integer, got %s" % (what, json.dumps(v)))
        return v

    def parse_step(self, req):
        for k in req:
            if k not in ("op", "prefills", "decodes", "free", "want_logits"):
                raise WorkerError("step: unknown field %r" % k)
        prefills, decodes, free = [], [], []
        for i, p in enumerate(req.get("prefills") or []):
            if not isinstance(p, list) or len(p) != 3:
                raise WorkerError("prefills[%d]: expected [seq, new_tokens, cached], got %s" % (i, json.dumps(p)))
            seq, new, cached = (self.as_int(x, "prefills[%d]" % i) for x in p)
            if new < 1 or cached < 0:
                raise WorkerError("prefills[%d]: seq %d with %d new tokens over %d cached: expected new >= 1, cached >= 0"
                                  % (i, seq, new, cached))
            prefills.append((seq, new, cached))
        for i, d in enumerate(req.get("decodes") or []):
            if isinstance(d, list):
                if len(d) != 2:
                    raise WorkerError("decodes[%d]: expected seq or [seq, cached], got %s" % (i, json.dumps(d)))
                seq, cached = (self.as_int(x, "decodes[%d]" % i) for x in d)
            else:
                seq, cached = self.as_int(d, "decodes[%d]" % i), None
            decodes.append((seq, cached))
        for i, f in enumerate(req.get("free") or []):
            free.append(self.as_int(f, "free[%d]" % i))
        return prefills, decodes, free

    def step(self, req):
        prefills, decodes, free = self.parse_step(req)
        return self.run_step(prefills, decodes, free, bool(req.get("want_logits")))

    def run_step(self, prefills, decodes, free, want_logits=False):
        """Checks the bookkeeping, frees, allocates blocks, runs and times
        the forward pass. Nothing changes when a check fails."""
        seen = set()
        for seq in free:
            if seq in seen:
                raise WorkerError("KV bookkeeping: seq %d freed twice in one step" % seq)
            seen.add(seq)
            if seq not in self.seqs:
                raise WorkerError("KV bookkeeping: free of seq %d, which holds no KV cache" % seq)
        freed = set(free)

        def held(seq):
            if seq in freed or seq not in self.seqs:
                return None
            return self.seqs[seq][1]

        seen = set()
        need = 0
        for seq, new, cached in prefills:
            if seq in seen:
                raise WorkerError("KV bookkeeping: seq %d appears twice in one step" % seq)
            seen.add(seq)
            h = held(seq) or 0
            if h != cached:
                raise WorkerError("KV bookkeeping: prefill chunk of seq %d says %d cached tokens, the worker holds %d"
                                  % (seq, cached, h))
            need += self.blocks(cached + new) - self.blocks(cached)
        for seq, cached in decodes:
            if seq in seen:
                raise WorkerError("KV bookkeeping: seq %d appears twice in one step" % seq)
            seen.add(seq)
            h = held(seq)
            if not h:
                raise WorkerError("KV bookkeeping: decode of seq %d, which holds no KV cache (prefill it first)" % seq)
            if cached is not None and h != cached:
                raise WorkerError("KV bookkeeping: decode of seq %d says %d cached tokens, the worker holds %d"
                                  % (seq, cached, h))
            need += self.blocks(h + 1) - self.blocks(h)
        available = len(self.free_blocks) + sum(len(self.seqs[s][0]) for s in free)
        if need > available:
            raise WorkerError("KV capacity exceeded: the step needs %d more blocks of %d tokens, %d are free of %d"
                              % (need, self.block_size, available, self.kv_blocks))
        # the checks passed: apply
        for seq in free:
            self.free_blocks.extend(reversed(self.seqs.pop(seq)[0]))
        segs = []  # (seq, new tokens, cached)
        for seq, new, cached in prefills:
            segs.append((seq, new, cached))
        n_pre = len(segs)
        for seq, _ in decodes:
            segs.append((seq, 1, self.seqs[seq][1]))
        for seq, new, cached in segs:
            ent = self.seqs.setdefault(seq, [[], 0])
            while len(ent[0]) < self.blocks(cached + new):
                ent[0].append(self.free_blocks.pop())
        tokens = sum(n for _, n, _ in segs)
        ms = wall = 0.0
        logits = None
        if tokens:
            ms, wall, logits = self.timed_forward(segs, n_pre)
        for seq, new, cached in segs:
            self.seqs[seq][1] = cached + new
        resp = {"ms": ms, "wall_ms": wall, "tokens": tokens, "kv_blocks_used": self.kv_blocks - len(self.free_blocks)}
        if want_logits:
            # for tests: the last-token logits of each sequence, in step order
            resp["logits"] = logits.float().cpu().tolist() if logits is not None else []
        return resp

    def timed_forward(self, segs, n_pre):
        """The forward pass and its time: the index tensors are built and
        copied to the device first, outside the measured window (each copy
        from a Python list synchronizes the stream); what is timed is the
        launch and run of the pass's kernels, as an engine's step. wall_ms
        is the host's time for both."""
        w0 = time.perf_counter()
        idx = self.indices(segs, n_pre)
        if self.dev == "cuda":
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            logits = self.forward(idx)
            end.record()
            end.synchronize()
            wall = (time.perf_counter() - w0) * 1e3
            return start.elapsed_time(end), wall, logits
        f0 = time.perf_counter()
        logits = self.forward(idx)
        f1 = time.perf_counter()
        return (f1 - f0) * 1e3, (f1 - w0) * 1e3, logits

    def indices(self, segs, n_pre):
        """The device tensors of one pass over segs [(seq, new, cached)]
        (the first n_pre prefill chunks, the rest decodes with new = 1;
        blocks already allocated): positions, cache slots, token ids,
        each sequence's last row, the chunks' block tables and the decodes'
        padded block table with their lengths."""
        dev = self.dev
        bs = self.block_size
        pos_l, slot_l, tok_seq_l, last_l = [], [], [], []
        t = 0
        for seq, new, cached in segs:
            tbl = self.seqs[seq][0]
            for p in range(cached, cached + new):
                pos_l.append(p)
                slot_l.append(tbl[p // bs] * bs + p % bs)
                tok_seq_l.append(seq)
            t += new
            last_l.append(t - 1)
        pos = torch.tensor(pos_l, device=dev)
        ids = self.id_pool[(torch.tensor(tok_seq_l, device=dev) * 7919 + pos) % self.id_pool.numel()]
        pre = []  # (start, n, cached, block table tensor)
        st = 0
        for seq, new, cached in segs[:n_pre]:
            nb = self.blocks(cached + new)
            pre.append((st, new, cached, torch.tensor(self.seqs[seq][0][:nb], device=dev)))
            st += new
        dec = None
        if len(segs) > n_pre:
            ds = segs[n_pre:]
            nbmax = max(self.blocks(c + 1) for _, _, c in ds)
            tbl = [self.seqs[seq][0][:nbmax] + [0] * (nbmax - len(self.seqs[seq][0][:nbmax])) for seq, _, _ in ds]
            dec = (torch.tensor(tbl, device=dev),  # [B, nbmax]
                   torch.tensor([c + 1 for _, _, c in ds], device=dev))
        return dict(t=t, pos=pos, ids=ids, slots=torch.tensor(slot_l, device=dev),
                    last=torch.tensor(last_l, device=dev), pre=pre, n_pre_tok=st, dec=dec)

    # --- the forward pass ---------------------------------------------------
    @torch.no_grad()
    def forward(self, idx):
        """One forward pass over the tensors of indices(): every prefill
        chunk and decode of the step in one batch."""
        m = self.model
        s = m.s
        H, hd, kvh = s["heads"], s["head_dim"], s["kv_heads"]
        t, slots, pre, n_pre_tok, dec = idx["t"], idx["slots"], idx["pre"], idx["n_pre_tok"], idx["dec"]
        if dec is not None:
            dec_tbl, dec_len = dec
        x = m.embed[idx["ids"]]
        cos, sin = m.rope_tables(idx["pos"])
        for li, L in enumerate(m.layers):
            h = m.rms(x, L["attn_norm"])
            qkv = F.linear(h, L["qkv"])
            # RoPE on the query and key heads together (one set of kernels)
            qk = m.rope(qkv[:, :m.q_dim + m.kv_dim].view(t, H + kvh, hd), cos, sin)
            q, k = qk[:, :H], qk[:, H:]
            v = qkv[:, m.q_dim + m.kv_dim:].view(t, kvh, hd)
            cache = self.pool[li]  # [2, blocks, bs, kvh, hd]
            flat = cache.view(2, -1, kvh, hd)
            flat[0].index_copy_(0, slots, k)
            flat[1].index_copy_(0, slots, v)
            outs = []
            for st, n, cached, btab in pre:
                kv = cache[:, btab].view(2, -1, kvh, hd)[:, :cached + n]  # [2, L, kvh, hd]
                outs.append(m.attend_one(q[st:st + n], kv[0].transpose(0, 1), kv[1].transpose(0, 1), cached))
            if dec is not None:
                B = dec_tbl.shape[0]
                kv = cache[:, dec_tbl].view(2, B, -1, kvh, hd).transpose(2, 3)  # [2, B, kvh, Lmax, hd]
                outs.append(m.attend_decodes(q[n_pre_tok:], kv[0], kv[1], dec_len))
            a = torch.cat(outs) if len(outs) > 1 else outs[0]
            x = x + F.linear(a, L["o"])
            h = m.rms(x, L["mlp_norm"])
            gu = F.linear(h, L["gate_up"])
            x = x + F.linear(F.silu(gu[:, :s["mlp"]]) * gu[:, s["mlp"]:], L["down"])
        # The LM head on the last token of each sequence, as engines do; the
        # next token would be sampled from these (its value does not matter).
        return F.linear(m.rms(x[idx["last"]], m.norm), m.lm_head)


def main():
    w = Worker()
    out = sys.stdout
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            try:
                req = json.loads(line)
            except ValueError as e:
                raise WorkerError("line %d: not JSON: %s" % (n, e))
            if not isinstance(req, dict):
                raise WorkerError("line %d: expected a JSON object" % n)
            resp = w.handle(req)
        except WorkerError as e:
            out.write(json.dumps({"ok": False, "error": str(e)}) + "\n")
            out.flush()
            sys.exit(2)
        except Exception as e:  # a bug or a device error (e.g. out of memory): still one JSON line
            out.write(json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}) + "\n")
            out.flush()
            import traceback
            traceback.print_exc(file=sys.stderr)
            sys.exit(2)
        resp["ok"] = True
        out.write(json.dumps(resp) + "\n")
        out.flush()
        if req.get("op") == "shutdown":
            return
    # stdin closed without shutdown: the Go side went away
    sys.exit(0)


if __name__ == "__main__":
    main()
