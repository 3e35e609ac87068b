#!/usr/bin/env python3
"""Converts the first ~N MB of a generated gateway file into other built-in
formats, call for call, for benches/formats_speed.sh. Deterministic, stdlib
only. See benches/README.md.

    benches/convert_formats.py SRC OUTDIR [MB]     # MB defaults to 200

Writes into OUTDIR:
  gateway-<MB>MB.jsonl          the slice itself (whole lines, byte for byte)
  openai-batch-<MB>MB.jsonl     OpenAI Batch API output lines
  anthropic-batch-<MB>MB.jsonl  Anthropic Message Batches results
  langfuse-<MB>MB.jsonl         Langfuse observations (UI/API camelCase)
  helicone-<MB>MB.jsonl         Helicone request export rows (JSON lines)
  otlp-json-<MB>MB.jsonl        OTLP JSON, one resourceSpans line per call
  bedrock-<MB>MB.jsonl          Amazon Bedrock invocation logs (Converse);
                                model ids as Bedrock spells them, so priced
                                at Bedrock's rates (not cost-compared)
  batchref-<MB>MB.jsonl         the cost reference of the two batch files:
                                the slice's calls that ran (status ok), with
                                "batch":true and no logged cost (a batch
                                file carries neither), in gateway form
  mapping-gateway.toml          a [mapping] of the gateway's own fields
  formats-notes-<MB>MB.txt      per format, what it cannot express (tokens
                                and calls), to explain cost differences

Shapes follow tests/fixtures/formats/<name>/ and each format's token
convention (Anthropic and Helicone input and Langfuse `input` exclude the
cache; OpenAI prompt_tokens and OTLP input_tokens include it).
"""
import json
import sys
from datetime import datetime, timedelta

SRC, OUT = sys.argv[1], sys.argv[2]
MB = int(sys.argv[3]) if len(sys.argv) > 3 else 200
LIMIT = MB * 1_000_000
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def usage_parts(u):
    """(input incl. cache, cache read, cache write, of it 1h, output incl.
    reasoning, reasoning, had_usage)."""
    if not u:
        return 0, 0, 0, 0, 0, 0, False
    if "prompt_tokens" in u or "completion_tokens" in u:
        inp = u.get("prompt_tokens") or 0
        read = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        out = u.get("completion_tokens") or 0
        reas = (u.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
        return inp, read, 0, 0, out, reas, True
    read = u.get("cache_read_input_tokens") or 0
    write = u.get("cache_creation_input_tokens") or 0
    w1h = (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
    inp = (u.get("input_tokens") or 0) + read + write
    return inp, read, write, w1h, u.get("output_tokens") or 0, 0, True


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def failed(o):
    return o.get("status") == "error" or (o.get("http_status") or 200) >= 400


def http_code(o):
    h = o.get("http_status")
    if h is None:
        return 500 if failed(o) else 200
    return h


def openai_batch(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    rid = o.get("request_id") or "req_%d" % n
    if failed(o):
        code = http_code(o)
        resp = {"status_code": code if code >= 400 else 500, "request_id": "%032x" % n,
                "body": {"error": {"message": "The server had an error while processing your request.",
                                   "type": o.get("error_type") or "server_error", "param": None, "code": None}}}
    else:
        body = {"id": "chatcmpl-%d" % n, "object": "chat.completion",
                "created": int(parse_ts(o["timestamp"]).timestamp()), "model": o["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "refusal": None},
                             "logprobs": None, "finish_reason": o.get("finish_reason") or "stop"}]}
        if has:
            body["usage"] = {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out,
                             "prompt_tokens_details": {"cached_tokens": read, "audio_tokens": 0},
                             "completion_tokens_details": {"reasoning_tokens": reas, "audio_tokens": 0,
                                                           "accepted_prediction_tokens": 0,
                                                           "rejected_prediction_tokens": 0}}
        body["system_fingerprint"] = "fp_0ba0d124f1"
        resp = {"status_code": http_code(o), "request_id": "%032x" % n, "body": body}
    return {"id": "batch_req_%020x" % n, "custom_id": rid, "response": resp, "error": None}


def anthropic_batch(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    rid = o.get("request_id") or "req_%d" % n
    if failed(o):
        return {"custom_id": rid, "result": {"type": "errored", "error": {"type": "error", "error": {
            "type": "api_error", "message": "Internal server error"}}}}
    msg = {"id": "msg_%024x" % n, "type": "message", "role": "assistant", "model": o["model"],
           "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None}
    if has:
        msg["usage"] = {"input_tokens": inp - read - write, "cache_creation_input_tokens": write,
                        "cache_read_input_tokens": read,
                        "cache_creation": {"ephemeral_5m_input_tokens": write - w1h,
                                           "ephemeral_1h_input_tokens": w1h},
                        "output_tokens": out, "service_tier": "batch"}
    return {"custom_id": rid, "result": {"type": "succeeded", "message": msg}}


def langfuse(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    start = parse_ts(o["timestamp"])
    lat = o.get("latency_ms")
    ttft = o.get("ttft_ms")
    usage = {}
    if has:
        usage = {"input": inp - read - write}
        if read:
            usage["cache_read_input_tokens"] = read
        if write:
            usage["cache_creation_input_tokens"] = write
        usage["output"] = out - reas
        if reas:
            usage["output_reasoning_tokens"] = reas
        usage["total"] = inp + out
    cost = o.get("cost")
    meta = {}
    if o.get("feature") is not None:
        meta["feature"] = o["feature"]
    if o.get("team") is not None:
        meta["team"] = o["team"]
    for k, v in (o.get("tags") or {}).items():
        meta[k] = v
    tid = "%08x-0000-4000-8000-%012x" % (n >> 48, n & 0xFFFFFFFFFFFF)
    return {"id": "%08x-1b7d-4e0a-9c61-%012x" % (n >> 48, n), "traceId": tid, "type": "GENERATION",
            "name": o.get("route"), "startTime": iso(start),
            "endTime": iso(start + timedelta(milliseconds=lat)) if lat is not None else None,
            "completionStartTime": iso(start + timedelta(milliseconds=ttft)) if ttft is not None else None,
            "model": o["model"],
            "modelParameters": {"max_tokens": str(o["max_tokens"])} if o.get("max_tokens") else None,
            "input": o.get("messages"), "output": None, "metadata": meta,
            "level": "ERROR" if failed(o) else "DEFAULT",
            "statusMessage": o.get("error_type"), "parentObservationId": None, "version": None,
            "usageDetails": usage, "costDetails": {"total": cost} if cost is not None else {},
            "totalCost": cost, "promptName": None, "promptVersion": None,
            "userId": o.get("user"), "sessionId": o.get("session"), "tags": [],
            "traceName": o.get("feature"), "environment": "production"}


def helicone(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    start = parse_ts(o["timestamp"])
    lat = o.get("latency_ms") or 0
    props = {}
    if o.get("feature") is not None:
        props["feature"] = o["feature"]
    if o.get("team") is not None:
        props["team"] = o["team"]
    for k, v in (o.get("tags") or {}).items():
        props[k] = v
    if o.get("session") is not None:
        props["Helicone-Session-Id"] = o["session"]
    uid = "%08x-0001-4aaa-9bbb-%012x" % (n >> 48, n & 0xFFFFFFFFFFFF)
    path = "https://api.anthropic.com/v1/messages" if o.get("provider") == "anthropic" \
        else "https://api.openai.com/v1/chat/completions"
    return {"response_id": "c0" + uid[2:], "response_created_at": iso(start + timedelta(milliseconds=lat)),
            "response_status": http_code(o), "response_model": o["model"], "request_id": uid,
            "model": o["model"], "request_created_at": iso(start), "request_path": path,
            "request_user_id": o.get("user"), "request_properties": props, "request_model": o["model"],
            "model_override": None, "helicone_user": "a1b2c3d4-0000-4000-8000-000000000001",
            "provider": (o.get("provider") or "").upper(), "delay_ms": lat,
            "time_to_first_token": o.get("ttft_ms"), "total_tokens": inp + out,
            "prompt_tokens": inp - read - write, "prompt_cache_write_tokens": write,
            "prompt_cache_read_tokens": read, "completion_tokens": out, "prompt_audio_tokens": 0,
            "completion_audio_tokens": 0, "cost": o.get("cost"), "prompt_id": None,
            "feedback_created_at": None, "feedback_id": None, "feedback_rating": None,
            "signed_body_url": "https://s3.example/bodies/x?sig=1", "llmSchema": None, "country_code": "DE",
            "asset_ids": None, "asset_urls": None, "scores": {}, "costUSD": None, "properties": props,
            "assets": [], "target_url": path, "cache_reference_id": "00000000-0000-0000-0000-000000000000",
            "cache_enabled": False, "updated_at": iso(start + timedelta(milliseconds=lat + 50))}


def sv(k, v):
    return {"key": k, "value": {"stringValue": v}}


def iv(k, v):
    return {"key": k, "value": {"intValue": str(v)}}


def otlp(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    start = int(round(parse_ts(o["timestamp"]).timestamp() * 1000)) * 1_000_000
    end = start + (o.get("latency_ms") or 0) * 1_000_000
    a = [sv("gen_ai.operation.name", "chat")]
    if o.get("provider"):
        a.append(sv("gen_ai.provider.name", o["provider"]))
    a.append(sv("gen_ai.request.model", o["model"]))
    a.append(sv("gen_ai.response.model", o["model"]))
    a.append(sv("gen_ai.response.id", o.get("request_id") or "resp-%d" % n))
    if o.get("session") is not None:
        a.append(sv("gen_ai.conversation.id", o["session"]))
    if o.get("user") is not None:
        a.append(sv("user.id", o["user"]))
    if o.get("finish_reason"):
        a.append({"key": "gen_ai.response.finish_reasons",
                  "value": {"arrayValue": {"values": [{"stringValue": o["finish_reason"]}]}}})
    if o.get("max_tokens"):
        a.append(iv("gen_ai.request.max_tokens", o["max_tokens"]))
    if has:
        a.append(iv("gen_ai.usage.input_tokens", inp))
        if read:
            a.append(iv("gen_ai.usage.cache_read.input_tokens", read))
        if write:
            a.append(iv("gen_ai.usage.cache_creation.input_tokens", write))
        a.append(iv("gen_ai.usage.output_tokens", out))
        if reas:
            a.append(iv("gen_ai.usage.reasoning.output_tokens", reas))
    if o.get("cost") is not None:
        a.append({"key": "gen_ai.usage.cost", "value": {"doubleValue": o["cost"]}})
    status = {}
    if failed(o):
        a.append(sv("error.type", o.get("error_type") or str(http_code(o))))
        status = {"code": 2, "message": o.get("error_type") or "error"}
    if o.get("feature") is not None:
        a.append(sv("feature", o["feature"]))
    if o.get("team") is not None:
        a.append(sv("team", o["team"]))
    a.append(sv("server.address", "api.%s.com" % (o.get("provider") or "example")))
    res = [sv("service.name", o.get("feature") or "llm-app")]
    for k, v in (o.get("tags") or {}).items():
        res.append(sv(k, str(v)))
    span = {"traceId": "%032x" % n, "spanId": "%016x" % n, "name": "chat " + o["model"], "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "attributes": a, "status": status}
    return {"resourceSpans": [{"resource": {"attributes": res}, "scopeSpans": [{
        "scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"},
        "spans": [span]}]}]}


def bedrock(o, p, n):
    inp, read, write, w1h, out, reas, has = p
    start = parse_ts(o["timestamp"])
    meta = {}
    for k in ("feature", "team", "session"):
        if o.get(k) is not None:
            meta[k] = o[k]
    for k, v in (o.get("tags") or {}).items():
        meta[k] = v
    line = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": iso(start),
            "accountId": "123456789012",
            "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/%s/i-0abc" % (o.get("user") or "app")},
            "region": "us-east-1", "requestId": o.get("request_id") or "req_%d" % n, "operation": "Converse",
            "modelId": ("anthropic.%s-v1:0" if o.get("provider") == "anthropic" else "%s") % o["model"],
            "input": {"inputContentType": "application/json",
                      "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "ok"}]}],
                                        "inferenceConfig": {"maxTokens": o.get("max_tokens") or 1024}},
                      "inputTokenCount": inp - read - write, "cacheReadInputTokenCount": read,
                      "cacheWriteInputTokenCount": write},
            "requestMetadata": meta}
    if failed(o):
        line["errorCode"] = "InternalServerException"
        line["output"] = {}
    else:
        line["output"] = {"outputContentType": "application/json",
                          "outputBodyJson": {"output": {"message": {"role": "assistant",
                                                                    "content": [{"text": "ok"}]}},
                                             "stopReason": "end_turn",
                                             "metrics": {"latencyMs": o.get("latency_ms") or 0},
                                             "usage": {"inputTokens": inp - read - write, "outputTokens": out,
                                                       "totalTokens": inp + out}},
                          "outputTokenCount": out}
    return line


def kong(o, p, n):
    """Kong AI Gateway 3.8's file-log line with payloads logged: its AI Proxy
    usage (no cache counts: the provider's own usage is in the logged
    response, which the reader prices from)."""
    inp, read, write, w1h, out, reas, has = p
    start = parse_ts(o["timestamp"])
    latency = o.get("latency_ms") or 0
    proxy = {"meta": {"request_model": o["model"], "response_model": o["model"],
                      "provider_name": o.get("provider") or "openai", "plugin_id": "546c3856",
                      "llm_latency": latency}}
    if has:
        proxy["usage"] = {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out,
                          "cost": 0, "time_per_token": 30}
        proxy["payload"] = {"response": dumps({"id": o.get("request_id") or "req_%d" % n,
                                                "model": o["model"], "usage": o.get("usage")})}
    return {"request": {"method": "POST", "uri": "/llm/v1/chat/completions", "size": 512,
                        "headers": {"host": "kong:8000", "content-type": "application/json"}},
            "response": {"status": http_code(o), "size": 900},
            "route": {"id": "r1", "name": o.get("route") or "llm"},
            "service": {"id": "s1", "name": o.get("feature") or "llm-svc"},
            "consumer": {"id": "c1", "username": o.get("user") or "app"},
            "latencies": {"request": latency, "kong": 2, "proxy": latency},
            "started_at": int(start.timestamp() * 1000), "client_ip": "10.0.0.1",
            "ai": {"proxy": proxy}}


FORMATS = {"openai-batch": openai_batch, "anthropic-batch": anthropic_batch, "langfuse": langfuse,
           "helicone": helicone, "otlp-json": otlp, "bedrock": bedrock, "kong": kong}

files = {name: open("%s/%s-%dMB.jsonl" % (OUT, name, MB), "w", encoding="utf-8") for name in FORMATS}
slice_f = open("%s/gateway-%dMB.jsonl" % (OUT, MB), "wb")
ref_f = open("%s/batchref-%dMB.jsonl" % (OUT, MB), "w", encoding="utf-8")
# What each format cannot express, in tokens (and calls), for the notes file.
gap = {"1h cache writes (priced as 5m writes)": 0, "cache writes (OpenAI usage has none: priced as input)": 0,
       "failed calls (batch: not run, not billed)": 0, "calls with a logged cost (batch: priced from the catalog)": 0}
size = n = 0
with open(SRC, "rb") as src:
    for raw in src:
        if size >= LIMIT:
            break
        size += len(raw)
        n += 1
        slice_f.write(raw)
        o = json.loads(raw)
        p = usage_parts(o.get("usage"))
        for name, conv in FORMATS.items():
            files[name].write(dumps(conv(o, p, n)))
            files[name].write("\n")
        gap["1h cache writes (priced as 5m writes)"] += p[3]
        gap["cache writes (OpenAI usage has none: priced as input)"] += p[2]
        if failed(o):
            gap["failed calls (batch: not run, not billed)"] += 1
        else:
            if o.get("cost") is not None:
                gap["calls with a logged cost (batch: priced from the catalog)"] += 1
            r = dict(o)
            r.pop("cost", None)
            r["batch"] = True
            ref_f.write(dumps(r))
            ref_f.write("\n")
for f in list(files.values()) + [slice_f, ref_f]:
    f.close()

with open("%s/mapping-gateway.toml" % OUT, "w") as f:
    f.write("""# The gateway file's own fields, through a [mapping] (benches/formats_speed.sh).
# Token counts are left to the gateway reader's common names (which a mapping
# falls back to): the file mixes OpenAI-style usage (input includes the cache)
# and Anthropic-style usage (it does not), and one mapping has one convention.
[mapping]
timestamp = "timestamp"
request_id = "request_id"
model = "model"
provider = "provider"
feature = "feature"
route = "route"
team = "team"
user = "user"
session = "session"
turn = "turn"
status = "status"
error_kind = "error_type"
http_status = "http_status"
attempt = "attempt"
retry_of = "retry_of"
latency_ms = "latency_ms"
ttft_ms = "ttft_ms"
finish_reason = "finish_reason"
max_tokens = "max_tokens"
cost = "cost"

[mapping.tags]
env = "tags.env"
user_facing = "tags.user_facing"
""")
with open("%s/formats-notes-%dMB.txt" % (OUT, MB), "w") as f:
    for k, v in gap.items():
        f.write("%s: %d\n" % (k, v))
print("%d calls, %d bytes of gateway lines converted" % (n, size), file=sys.stderr)
