"""Synthetic Claude Code session logs for memory measurements of the dedup.

Usage: python3 benches/claude_code_logs.py OUT SESSIONS MESSAGES
(3000 sessions x 100 messages: 744 MB, 300k messages written on 1-3 streamed
lines each, as Claude Code writes them). Measure with
/usr/bin/time -f %M target/release/tokenaudit audit OUT --out /tmp/o --no-findings.
"""
import json, os, random, sys, uuid
random.seed(7)
out = sys.argv[1]; sessions = int(sys.argv[2]); msgs = int(sys.argv[3])
projects = [f"/home/dev/src/project-{i}" for i in range(40)]
models = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-3-5-haiku-20241022"]
for s in range(sessions):
    cwd = random.choice(projects)
    d = os.path.join(out, "projects", cwd.replace("/", "-"))
    os.makedirs(d, exist_ok=True)
    sid = str(uuid.UUID(int=random.getrandbits(128)))
    with open(os.path.join(d, sid + ".jsonl"), "w") as f:
        parent = None
        for m in range(msgs):
            ts = f"2025-10-{1 + s % 28:02d}T{m % 24:02d}:{m % 60:02d}:00.000Z"
            u = str(uuid.UUID(int=random.getrandbits(128)))
            f.write(json.dumps({"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid, "version": "2.0.0", "gitBranch": "main", "type": "user", "message": {"role": "user", "content": "please " + "x" * random.randint(20, 200)}, "uuid": u, "timestamp": ts}, separators=(",", ":")) + "\n")
            parent = u
            mid = "msg_" + uuid.UUID(int=random.getrandbits(128)).hex[:24]
            rid = "req_" + uuid.UUID(int=random.getrandbits(128)).hex[:24]
            model = random.choice(models)
            inp, cr, cw = random.randint(1, 50), random.randint(0, 90000), random.randint(0, 3000)
            for part in range(random.randint(1, 3)):
                u = str(uuid.UUID(int=random.getrandbits(128)))
                f.write(json.dumps({"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid, "version": "2.0.0", "gitBranch": "main", "message": {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": "y" * random.randint(50, 400)}], "stop_reason": None, "usage": {"input_tokens": inp, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr, "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0}, "output_tokens": 10 + part * 100, "service_tier": "standard"}}, "requestId": rid, "type": "assistant", "uuid": u, "timestamp": ts}, separators=(",", ":")) + "\n")
                parent = u
