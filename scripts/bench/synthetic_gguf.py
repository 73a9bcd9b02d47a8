#!/usr/bin/env python3
"""Writes a GGUF file with the shapes of `iris bench --synthetic qwen2-0.5b`'s decoder.

The text model of LLaVA-OneVision-0.5B (Qwen2-0.5B: 24 layers, hidden 896, 14 heads, 2 KV
heads, MLP 4864, vocabulary 152000, tied embeddings, q/k/v biases) with random weights, so that
llama.cpp's `llama-bench` measures the same shapes Iris does, without a download. Speed does
not depend on the weights' values. The vocabulary is GPT-2 byte-level: the 256 byte symbols,
then filler tokens, and no merges beyond a few; llama-bench feeds random token ids.

Needs numpy and llama.cpp's `gguf-py` on PYTHONPATH:

    PYTHONPATH=llama.cpp/gguf-py python3 scripts/bench/synthetic_gguf.py out.gguf [--type f16]

--type f32 | f16 (default) | q8_0 | q4_0. The quantised types quantise every 2-D weight in
blocks of 32 with gguf-py's reference quantiser (what `llama-quantize` writes for a pure
Q8_0 / Q4_0 file); 1-D tensors (norms, biases) stay f32 as in llama.cpp's files.
"""

import argparse

import numpy as np
import gguf

LAYERS, HIDDEN, HEADS, KV_HEADS, MLP, VOCAB = 24, 896, 14, 2, 4864, 152000
HEAD_DIM = HIDDEN // HEADS


def byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (the same table tokenizers use)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    table = dict(zip(printable, chars))
    return [chr(table[b]) for b in range(256)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--type", default="f16", choices=["f32", "f16", "q8_0", "q4_0"])
    args = parser.parse_args()
    quant = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}.get(args.type)
    dtype = np.float32 if args.type != "f16" else np.float16
    rng = np.random.default_rng(0)

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(dtype)

    def add_weight(name: str, *shape: int) -> None:
        data = normal(*shape)
        if quant is None:
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, gguf.quants.quantize(data, quant), raw_dtype=quant)

    def ones(n: int) -> np.ndarray:
        # Norm weights stay f32, as llama.cpp's converter keeps 1-D tensors.
        return np.ones(n, dtype=np.float32)

    w = gguf.GGUFWriter(args.out, "qwen2")
    w.add_name("iris-synthetic-qwen2-0.5b")
    w.add_context_length(32768)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(MLP)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(1e6)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type({
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
        "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
    }[args.type])

    tokens = byte_symbols() + [f"w{i}" for i in range(256, VOCAB)]
    types = [gguf.TokenType.NORMAL] * VOCAB
    for i in (151643, 151644, 151645):
        tokens[i] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"][i - 151643]
        types[i] = gguf.TokenType.CONTROL
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(["Ġ Ġ", "Ġ t", "i n"])
    w.add_bos_token_id(151643)
    w.add_eos_token_id(151645)

    add_weight("token_embd.weight", VOCAB, HIDDEN)
    w.add_tensor("output_norm.weight", ones(HIDDEN))
    kv = KV_HEADS * HEAD_DIM
    for i in range(LAYERS):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", ones(HIDDEN))
        add_weight(b + "attn_q.weight", HIDDEN, HIDDEN)
        w.add_tensor(b + "attn_q.bias", normal(HIDDEN).astype(np.float32))
        add_weight(b + "attn_k.weight", kv, HIDDEN)
        w.add_tensor(b + "attn_k.bias", normal(kv).astype(np.float32))
        add_weight(b + "attn_v.weight", kv, HIDDEN)
        w.add_tensor(b + "attn_v.bias", normal(kv).astype(np.float32))
        add_weight(b + "attn_output.weight", HIDDEN, HIDDEN)
        w.add_tensor(b + "ffn_norm.weight", ones(HIDDEN))
        add_weight(b + "ffn_gate.weight", MLP, HIDDEN)
        add_weight(b + "ffn_up.weight", MLP, HIDDEN)
        add_weight(b + "ffn_down.weight", HIDDEN, MLP)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
