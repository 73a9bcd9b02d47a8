#!/usr/bin/env python3
"""HF transformers' prefill and greedy decode speed on the shapes of `iris bench --synthetic
qwen2-0.5b`'s language model (Qwen2-0.5B: 24 layers, hidden 896, 14 / 2 heads, MLP 4864,
vocabulary 152000, tied), random weights, fp32 on the CPU, for the side-by-side table in
BENCHMARKS.md. Nothing is downloaded: the model is built from its config.

    tests/fixtures/.venv/bin/python scripts/bench/hf_decode.py --threads 2 --prompt 512 --new 16

Prints one Markdown row per timed run (after one warm-up run), the same figures `iris bench`
reports: prefill tok/s (prompt ÷ prefill time) and decode tok/s ((new − 1) ÷ decode time).
"""

import argparse
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--new", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=152000,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1e6,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config).eval()
    ids = torch.randint(0, 150000, (1, args.prompt))
    print(f"torch {torch.__version__}, {args.threads} threads, prompt {args.prompt}, new {args.new}")
    print("| run | prefill ms | prefill tok/s | decode ms | decode tok/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with torch.inference_mode():
        for run in range(args.runs + 1):
            start = time.perf_counter()
            out = model(input_ids=ids, use_cache=True)
            prefill = time.perf_counter() - start
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            start = time.perf_counter()
            for _ in range(args.new - 1):
                out = model(input_ids=token, past_key_values=past, use_cache=True)
                past = out.past_key_values
                token = out.logits[:, -1].argmax(-1, keepdim=True)
            decode = time.perf_counter() - start
            label = "warm-up" if run == 0 else str(run)
            print(
                f"| {label} | {prefill * 1e3:.1f} | {args.prompt / prefill:.1f} | "
                f"{decode * 1e3:.1f} | {(args.new - 1) / decode:.2f} |"
            )


if __name__ == "__main__":
    main()
