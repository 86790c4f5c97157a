"""Writes the benchmark-client fixtures of lab/metrics' readers.

The dictionaries below follow the result layout of vLLM's
vllm/benchmarks/serve.py (`vllm bench serve --save-result --save-detailed`,
written with json.dump) and of SGLang's python/sglang/bench_serving.py
(`--output-file F --output-details`, one json.dumps line per run), so the
files have the tools' exact encoding (ensure_ascii escapes, ", " and ": "
separators, Python's float repr). Rerun with python3 after changing them.
"""
import json

# Eight requests as a client records them: ttft and itls in seconds,
# a failed request has ttft 0.0, itl [], latency 0.0, output length 0 and
# the exception text as its error.
TRACEBACK = (
    "Traceback (most recent call last):\n"
    "  File \"/usr/lib/python3/dist-packages/vllm/benchmarks/lib/endpoint_request_func.py\", line 171, in async_request_openai_completions\n"
    "    async with session.post(url=api_url, json=payload, headers=headers) as response:\n"
    "aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected\n"
)
requests = [
    # input_len, output_len, ttft, itls, generated_text, error
    (512, 4, 0.0712, [0.0213, 0.0198, 0.0251], "The capital of France is Paris.", ""),
    (1830, 3, 0.4127, [0.0344, 0.1521], "東京は日本の首都です。", ""),
    (96, 1, 0.0388, [], "", ""),
    (2048, 0, 0.0, [], "", TRACEBACK),
    (733, 5, 0.1904, [0.0219, 0.0225, 0.0431, 0.0207], "Ünïcödé ✓ — emoji 🚀", ""),
    (301, 2, 0.0655, [0.0189], "\n\n", ""),
    (1200, 0, 0.0, [], "", ""),
    (64, 3, 0.0301, [0.0172, 0.0168], "ok", ""),
]

def lists(with_latency):
    out = {
        "input_lens": [r[0] for r in requests],
        "output_lens": [r[1] for r in requests],
        "ttfts": [r[2] for r in requests],
        "itls": [r[3] for r in requests],
    }
    if with_latency:
        # vLLM's latency is taken when the stream ends, a little after the
        # last token.
        out["latencies"] = [round(r[2] + sum(r[3]) + 0.0009, 6) if r[2] else 0.0 for r in requests]
        out["start_times"] = [round(1843.52 + 0.05 * i, 6) for i in range(len(requests))]
        out["queue_times"] = [0.0 for _ in requests]
    out["generated_texts"] = [r[4] for r in requests]
    out["errors"] = [r[5] for r in requests]
    return out

completed = sum(1 for r in requests if r[2] > 0)
duration = 1.284913

vllm = {
    "date": "20250611-142233",
    "endpoint_type": "vllm",
    "backend": "vllm",
    "label": None,
    "model_id": "meta-llama/Llama-3.1-8B-Instruct",
    "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct",
    "num_prompts": len(requests),
    "request_rate": "inf",
    "burstiness": 1.0,
    "max_concurrency": None,
    "duration": duration,
    "completed": completed,
    "failed": len(requests) - completed,
    "total_input_tokens": sum(r[0] for r in requests if r[2] > 0),
    "total_output_tokens": sum(r[1] for r in requests),
    "request_throughput": completed / duration,
    "request_goodput": None,
    "output_throughput": sum(r[1] for r in requests) / duration,
    "total_token_throughput": sum(r[0] + r[1] for r in requests if r[2] > 0) / duration,
}
vllm.update(lists(True))
vllm.update({"max_output_tokens_per_s": 18.0, "max_concurrent_requests": 6, "rtfx": 0.0,
             "mean_ttft_ms": 134.78, "median_ttft_ms": 68.35, "std_ttft_ms": 134.1, "p99_ttft_ms": 401.5})
with open("vllm-detailed.json", "w", encoding="utf-8") as f:
    json.dump(vllm, f)

sglang = {
    "backend": "sglang",
    "dataset_name": "random",
    "request_rate": 8.0,
    "max_concurrency": None,
    "sharegpt_output_len": None,
    "random_input_len": 1024,
    "random_output_len": 4,
    "random_range_ratio": 0.0,
    "duration": duration,
    "completed": completed,
    "total_input_tokens": sum(r[0] for r in requests if r[2] > 0),
    "total_output_tokens": sum(r[1] for r in requests),
    "total_output_tokens_retokenized": sum(r[1] for r in requests),
    "request_throughput": completed / duration,
    "input_throughput": sum(r[0] for r in requests if r[2] > 0) / duration,
    "output_throughput": sum(r[1] for r in requests) / duration,
    "mean_e2e_latency_ms": 201.3,
    "median_e2e_latency_ms": 131.2,
    "std_e2e_latency_ms": 140.9,
    "p99_e2e_latency_ms": 598.1,
    "mean_ttft_ms": 134.78,
    "median_ttft_ms": 68.35,
    "std_ttft_ms": 134.1,
    "p99_ttft_ms": 401.5,
    "mean_tpot_ms": 31.2,
    "median_tpot_ms": 21.9,
    "std_tpot_ms": 20.3,
    "p99_tpot_ms": 92.4,
    "mean_itl_ms": 34.1,
    "median_itl_ms": 21.3,
    "std_itl_ms": 33.0,
    "p95_itl_ms": 131.9,
    "p99_itl_ms": 148.0,
    "concurrency": 1.27,
    "accept_length": None,
}
sglang.update(lists(False))
# SGLang's client records its own traceback.
sglang["errors"] = [e.replace("/usr/lib/python3/dist-packages/vllm/benchmarks/lib/endpoint_request_func.py", "/opt/sglang/python/sglang/bench_serving.py")
                    .replace("line 171", "line 392") for e in sglang["errors"]]
with open("sglang-details.jsonl", "w", encoding="utf-8") as f:
    f.write(json.dumps(sglang) + "\n")
