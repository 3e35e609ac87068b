#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/seeds/<target>/, from the
repository's fixtures, sample logs and test sources (small slices only).

The committed corpus, fuzz/corpus/<target>/, is these seeds plus what the
fuzzer found, minimised with `cargo fuzz cmin` (see benches/README.md):

    python3 fuzz/seed.py
    cd fuzz && cargo +nightly fuzz cmin -s none TARGET seeds/TARGET

Parquet seeds need DuckDB's Python package (`pip install duckdb`), price
seeds the upstream catalogs (paths below, skipped when absent).
"""

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"
FIXTURES = ROOT / "tests" / "fixtures"

# `--input-format` by the selector byte (tokenaudit_fuzz::builtin): the
# order of `formats::REGISTRY`, then detection.
FORMATS = ["gateway", "otlp-json", "langfuse", "helicone", "anthropic-batch",
           "openai-batch", "claude-code", "codex"]
DETECT = len(FORMATS)

# Fixture folders and the format that reads them.
FIXTURE_FORMAT = {
    "anthropic-batch": "anthropic-batch",
    "openai-batch": "openai-batch",
    "otlp-json": "otlp-json",
    "langfuse": "langfuse",
    "helicone": "helicone",
    "claude-code": "claude-code",
    "codex": "codex",
    "openai-responses": "gateway",
    "openai-chat": "gateway",
    "litellm-spend-logs": "gateway",
    "gemini": "gateway",
    "anthropic-messages": "gateway",
}


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def head_lines(data, n):
    return b"".join(data.splitlines(keepends=True)[:n])


def zstd_head(path, n):
    out = subprocess.run(["zstd", "-dc", str(path)], capture_output=True).stdout
    return head_lines(out, n)


def rust_raw_strings(path, const):
    """The r#"..."# strings of a `const NAME: [&str; N]`/`&[&str]` in a Rust file."""
    text = path.read_text()
    start = text.index(const)
    end = text.index("];", start)
    return re.findall(r'r#"(.*?)"#', text[start:end])


def sample_slices():
    """A few lines of each sample log, decompressed."""
    s = ROOT / "sample-logs"
    return {
        "gateway": head_lines((s / "gateway" / "2026-10-01..16.jsonl").read_bytes(), 8),
        "openai-batch": zstd_head(s / "batch" / "nightly-2026-10.jsonl.zst", 8),
        "langfuse": zstd_head(s / "langfuse" / "observations-2026-10.jsonl.zst", 8),
        "litellm": zstd_head(s / "litellm" / "spend-logs-2026-10.jsonl.zst", 8),
    }


def lines_seeds(samples):
    for folder, fmt in FIXTURE_FORMAT.items():
        for path in sorted((FIXTURES / "formats" / folder).rglob("*.jsonl")):
            data = path.read_bytes()
            for sel in (FORMATS.index(fmt), DETECT):
                put("lines", bytes([sel]) + data)
    for name, data in samples.items():
        fmt = name if name in FORMATS else "gateway"
        put("lines", bytes([FORMATS.index(fmt)]) + data)
    # The readers' tricky lines, from their differential tests.
    src = ROOT / "crates" / "ingest" / "src" / "formats"
    for file, fmt in [("gateway.rs", "gateway"), ("langfuse.rs", "langfuse"),
                      ("helicone.rs", "helicone"), ("provider.rs", "anthropic-batch")]:
        tricky = rust_raw_strings(src / file, "const TRICKY")
        for i in range(0, len(tricky), 8):
            put("lines", bytes([FORMATS.index(fmt)]) + "\n".join(tricky[i:i + 8]).encode())


def json_for(paths_value, leaf):
    """A JSON object with `leaf` at a dotted path."""
    obj = leaf
    for key in reversed(paths_value.split(".")):
        obj = {key: obj}
    return obj


def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v
    return a


def mapping_seeds(samples):
    text = (ROOT / "crates" / "ingest" / "src" / "formats" / "mapping_scan" / "tests.rs").read_text()
    tomls = [t for t in re.findall(r'r#"(.*?)"#', text, re.S) if "[mapping]" in t]
    tomls.append((FIXTURES / "formats" / "csv" / "tokenaudit.toml").read_text())
    counts = {"input_tokens", "output_tokens", "cached_read_tokens", "cache_write_tokens",
              "reasoning_tokens", "turn", "attempt", "http_status", "latency_ms",
              "ttft_ms", "max_tokens", "cost", "timestamp"}
    for t in tomls:
        try:
            m = tomllib.loads(t)["mapping"]
        except Exception:
            continue
        line = {}
        for key, paths in m.items():
            if isinstance(paths, dict) or not isinstance(paths, (str, list)):
                continue
            for p in paths if isinstance(paths, list) else [paths]:
                leaf = 1200 if key in counts else f"v-{key}"
                merge(line, json_for(p, leaf))
        body = json.dumps(line) + "\n" + json.dumps(line, separators=(",", ":"))
        put("mapping", t.encode() + b"\0" + body.encode() + b"\n" + samples["gateway"][:2000])


def file_seeds(samples):
    for path in sorted((FIXTURES / "formats").rglob("*")):
        if path.suffix not in (".jsonl", ".json") or path.stat().st_size > 20000:
            continue
        data = path.read_bytes()
        # .jsonl, detected; and again in tiny chunks with short lines.
        put("file", bytes([DETECT << 4]) + data)
        put("file", bytes([DETECT << 4 | 4 | 8]) + data)
    for name, data in samples.items():
        put("file", bytes([DETECT << 4]) + data)
        put("file", bytes([DETECT << 4 | 4]) + gzip.compress(data, mtime=0))
    # UTF-16 with its byte-order mark, and a JSON array.
    g = samples["gateway"].decode()
    put("file", bytes([DETECT << 4]) + b"\xff\xfe" + g.encode("utf-16-le"))
    rows = [json.loads(l) for l in g.splitlines()[:3]]
    put("file", bytes([DETECT << 4 | 1]) + json.dumps(rows, indent=1).encode())


def csv_seeds():
    for path in sorted(FIXTURES.rglob("*.csv")):
        data = head_lines(path.read_bytes(), 40)
        put("csv", bytes([DETECT << 4]) + data)
        put("csv", bytes([DETECT << 4 | 4 | 8]) + data)


def parquet_seeds():
    try:
        import duckdb
    except ImportError:
        print("no duckdb: no Parquet seeds", file=sys.stderr)
        return
    tmp = OUT / "tmp.parquet"
    queries = [
        # The gateway shape, nested usage, several rows and row groups.
        """select timestamp '2026-10-01 08:00:00' + interval (i) minute as timestamp,
                  'req-' || i as request_id, 'gpt-4o' as model, 'openai' as provider,
                  'feature-' || (i % 3) as feature,
                  {'prompt_tokens': 1000 + i, 'completion_tokens': 100,
                   'prompt_tokens_details': {'cached_tokens': i}} as usage,
                  {'env': 'prod'} as tags
           from range(6) t(i)""",
        # Flat columns of many types, nulls.
        """select 'claude-sonnet-4-5' as model, i::bigint as input_tokens,
                  (i * 2)::int as output_tokens, i::double as latency_ms,
                  case when i % 2 = 0 then null else 'ok' end as status,
                  i % 2 = 0 as batch, [1, 2] as list_col,
                  map(['k'], ['v']) as metadata
           from range(4) t(i)""",
        # A Langfuse-shaped export.
        """select 'trace-' || i as traceId, 'GENERATION' as type, 'gpt-4o-mini' as model,
                  {'input': 10 + i, 'output': 5} as usageDetails,
                  timestamp '2026-10-02 09:00:00' as startTime
           from range(3) t(i)""",
    ]
    for q, codec in zip(queries, ["snappy", "zstd", "gzip"]):
        duckdb.sql(f"copy ({q}) to '{tmp}' (format parquet, compression {codec}, row_group_size 2)")
        put("parquet", tmp.read_bytes())
    tmp.unlink()


def config_seeds():
    for path in [ROOT / "sample-logs" / "tokenaudit.toml",
                 FIXTURES / "formats" / "csv" / "tokenaudit.toml"]:
        put("config", path.read_text())
    put("config", '[attribution]\nfeature = "tag:team"\n')
    for path in sorted((ROOT / "tests" / "it").rglob("*.rs")):
        text = path.read_text()
        for s in re.findall(r'"(\[(?:rules\.|detect\]|\[budget)(?:[^"\\]|\\.)*)"', text, re.S):
            s = re.sub(r"\\\n\s*", "", s).replace("\\n", "\n").replace('\\"', '"')
            put("config", s)


def prices_seeds():
    catalog = json.loads((ROOT / "crates" / "core" / "data" / "catalog.json").read_text())
    catalog["models"] = catalog["models"][::60]
    used = {m["provider"] for m in catalog["models"]}
    catalog["providers"] = [p for p in catalog["providers"] if p["id"] in used]
    put("prices", b"\0" + json.dumps(catalog, indent=1).encode())
    litellm = Path("/tmp/analyze17/litellm/unz/litellm/model_prices_and_context_window_backup.json")
    if litellm.exists():
        data = json.loads(litellm.read_text())
        keys = ["sample_spec", "gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro",
                "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0", "text-embedding-3-small"]
        put("prices", b"\1" + json.dumps({k: data[k] for k in keys if k in data}, indent=1).encode())
    genai = Path("/work/shared/data/prices/genai-prices/data.json")
    if genai.exists():
        data = json.loads(genai.read_text())
        small = []
        for p in data:
            if p["id"] in ("openai", "anthropic", "google"):
                p = dict(p, models=p["models"][:3])
                small.append(p)
        put("prices", b"\2" + json.dumps(small, indent=1).encode())


def main():
    samples = sample_slices()
    lines_seeds(samples)
    mapping_seeds(samples)
    file_seeds(samples)
    csv_seeds()
    parquet_seeds()
    config_seeds()
    prices_seeds()
    for d in sorted(OUT.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
