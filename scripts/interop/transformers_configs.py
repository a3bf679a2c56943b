"""Tiny random models saved by transformers (v5 config forms: rope_parameters, dtype), and their
perplexity computed by transformers itself in float64 -- the oracle for the config readers.

Not part of the test suite (it needs torch + transformers, which the studio never depends on):

    python scripts/interop/transformers_configs.py OUT_DIR TEXT_FILE TOKENIZER_DIR [--seqlen 64] [--windows 4]

writes OUT_DIR/<name>/ (a Hugging Face folder with the tokenizer files of TOKENIZER_DIR copied in)
and OUT_DIR/expected.json: {name: {"ppl", "nll", "tokens", "config": <the saved config.json>}}.
Then `scripts/interop/check-transformers.ts OUT_DIR TEXT_FILE` runs the CLI's perplexity on each
and prints the relative differences. The perplexity protocol is the studio's: the whole text
tokenized once with the tokenizer's defaults, cut into floor(n / seqlen) windows, each window run
from position 0, ppl = exp(mean NLL over the predicted tokens).
"""
import argparse, json, math, os, shutil
import torch
import transformers
from tokenizers import Tokenizer

p = argparse.ArgumentParser()
p.add_argument("out"); p.add_argument("text"); p.add_argument("tokenizer")
p.add_argument("--seqlen", type=int, default=64); p.add_argument("--windows", type=int, default=4)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
tok = Tokenizer.from_file(os.path.join(a.tokenizer, "tokenizer.json"))
tok.no_truncation(); tok.no_padding()  # as transformers does: a saved truncation setting is not the default
ids = tok.encode(open(a.text, encoding="utf-8", newline="").read()).ids
V = tok.get_vocab_size()
n = min(len(ids) // a.seqlen, a.windows)
windows = torch.tensor(ids[: n * a.seqlen], dtype=torch.long).view(n, a.seqlen)

from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, GPTNeoXConfig,
                          GPTNeoXForCausalLM, PhiConfig, PhiForCausalLM, GPT2Config, GPT2LMHeadModel,
                          OPTConfig, OPTForCausalLM)

small = dict(vocab_size=V, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
             max_position_embeddings=256)
MODELS = {
    "qwen2-theta1e6": (Qwen2Config, Qwen2ForCausalLM,
                       dict(small, num_key_value_heads=2, rope_parameters={"rope_type": "default", "rope_theta": 1e6})),
    "llama-llama3": (LlamaConfig, LlamaForCausalLM,
                     dict(small, num_key_value_heads=2, rope_parameters={"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0,
                          "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64})),
    "llama-theta5e5-tied": (LlamaConfig, LlamaForCausalLM,
                            dict(small, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 5e5})),
    "llama-linear2": (LlamaConfig, LlamaForCausalLM,
                      dict(small, num_key_value_heads=1, rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 2e4})),
    "llama-bias-headdim": (LlamaConfig, LlamaForCausalLM,
                           dict(small, head_dim=24, attention_bias=True, mlp_bias=True, rope_parameters={"rope_type": "default", "rope_theta": 1e4})),
    "gpt_neox-rot0.5-theta5e4": (GPTNeoXConfig, GPTNeoXForCausalLM,
                                 dict(small, rope_parameters={"rope_type": "default", "rope_theta": 50000, "partial_rotary_factor": 0.5})),
    "gpt_neox-seq-nobias": (GPTNeoXConfig, GPTNeoXForCausalLM,
                            dict(small, use_parallel_residual=False, attention_bias=False,
                                 rope_parameters={"rope_type": "linear", "factor": 3.0, "rope_theta": 10000, "partial_rotary_factor": 0.25})),
    "phi-rot0.4-theta2e4": (PhiConfig, PhiForCausalLM,
                            dict(small, rope_parameters={"rope_type": "default", "rope_theta": 20000, "partial_rotary_factor": 0.375})),
    "gpt2": (GPT2Config, GPT2LMHeadModel, dict(vocab_size=V, n_embd=64, n_layer=2, n_head=4, n_positions=256)),
    "opt": (OPTConfig, OPTForCausalLM, dict(vocab_size=V, hidden_size=64, ffn_dim=96, num_hidden_layers=2,
                                            num_attention_heads=4, max_position_embeddings=256, word_embed_proj_dim=48)),
}

expected = {}
for name, (Cfg, Model, kw) in MODELS.items():
    torch.manual_seed(sum(map(ord, name)))
    cfg = Cfg(**kw)
    model = Model(cfg).eval()
    with torch.no_grad():  # larger weights than the default init, so the logits are far from uniform
        for prm in model.parameters():
            prm.add_(torch.randn_like(prm) * 0.05)
    for dtype, suffix in ((torch.float32, ""), (torch.bfloat16, "-bf16")):
        if suffix and name not in ("llama-llama3", "gpt_neox-rot0.5-theta5e4"):
            continue
        d = os.path.join(a.out, name + suffix)
        m = model.to(dtype)
        m.save_pretrained(d)
        for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json"):
            if os.path.exists(os.path.join(a.tokenizer, f)):
                shutil.copy(os.path.join(a.tokenizer, f), d)
        m64 = Model.from_pretrained(d, dtype=torch.float64).eval()
        with torch.no_grad():
            logits = m64(windows).logits
            lp = torch.log_softmax(logits[:, :-1], dim=-1)
            nll = -lp.gather(-1, windows[:, 1:, None]).squeeze(-1)
        mean = nll.mean().item()
        expected[name + suffix] = {"ppl": math.exp(mean), "nll": mean, "tokens": nll.numel(),
                                   "config": json.load(open(os.path.join(d, "config.json")))}
        print(f"{name + suffix}: ppl {math.exp(mean):.6f}")
        model = model.float()
json.dump({"transformers": transformers.__version__, "seqlen": a.seqlen, "windows": n, "models": expected},
          open(os.path.join(a.out, "expected.json"), "w"), indent=1)
