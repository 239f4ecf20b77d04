#!/usr/bin/python3
"""webhooks.py: wrk against each webhook door of a running stack.

Starts `sbctl up` (its own redis-server, AOF everysec, the five services)
on a free port offset with a tenant that holds one account per platform,
then, for each target, writes signed, distinct requests (every request a new
platform message id, so de-duplication does not flatter the figures; about
2,000 customers so conversations thread) and runs
`wrk -t2 -c16 --latency` with a Lua script that sends them in turn.
Targets run interleaved, ROUNDS times, so that pairs such as WeChat
plaintext and safe mode are measured side by side on a noisy machine;
the report gives the median of the rounds and the safe/plain ratios.

With --ingest-alone the bus is publish_bench --hold (beside sbctl): a
redis-server (AOF everysec) and sb-ingest only, with a sink on classify's
hand-off port (leases toward classify last 10 minutes, so nothing is
re-sent during the run): the doors' own ceiling, with nothing downstream
competing for the two cores.

  bench/webhooks.py [--sbctl build/sbctl] [--seconds 10] [--rounds 3]
                    [--targets events,meta,wechat_plain,wechat_safe,telegram,line]
                    [--ingest-alone]
Output: JSON on stdout and in bench/results/<date>-webhooks/webhooks.json.
Needs: wrk, python3-cryptography (WeChat safe mode), both in
deps/debian-packages.txt.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

META_SECRET = "bench-meta-secret"
WX_TOKEN = "bench-wx-token"
WX_APPID = "wx5823bf96d3bd56c7"
WX_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2e"
TG_SECRET = "bench_tg_secret"
LINE_SECRET = "bench-line-secret"
API_KEY = "bench-integrator-key"
TENANT = "bench"
CUSTOMERS = 2000

TENANTS = {"tenants": [{
    "id": TENANT, "languages": ["en", "fr", "de", "es", "nl"],
    "api_keys": ["sha256:" + hashlib.sha256(API_KEY.encode()).hexdigest()],
    "sla": {"first_response_ms": 600000, "warn_percent": 80},
    "accounts": [
        {"platform": "meta", "id": "106540352242922", "secret": META_SECRET, "verify_token": "vt"},
        {"platform": "wechat", "id": "gh-plain", "secret": "s", "verify_token": WX_TOKEN},
        {"platform": "wechat", "id": "gh-safe", "secret": "s", "verify_token": WX_TOKEN,
         "app_id": WX_APPID, "aes_key": WX_AES_KEY},
        {"platform": "telegram", "id": "benchbot", "secret": TG_SECRET},
        {"platform": "line", "id": "bench-line", "secret": LINE_SECRET}]}]}

TEXTS = [
    "Hi, my flight was cancelled. Can you rebook me on the next one?",
    "Bonjour, mon bagage n'est pas arrivé à Paris, que dois-je faire ?",
    "Hallo, ich möchte meine Buchung stornieren und das Geld zurück.",
    "Hola, el tren lleva 40 minutos de retraso, ¿hay alternativa?",
    "Hoi, mijn abonnement is twee keer afgeschreven deze maand.",
    "Thanks a lot, the crew on my flight today were wonderful!",
]


def free_offset():
    """A port offset whose ingest HTTP and admin ports are free."""
    for _ in range(50):
        off = random.randrange(1000, 20000, 10)
        ok = True
        for base in (8080, 5555, 5556, 9101, 9102, 9103, 9104, 9105):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + off))
                except OSError:
                    ok = False
        if ok:
            return off
    raise SystemExit("no free port offset")


def sha1_sorted(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wx_encrypt(xml):
    key = base64.b64decode(WX_AES_KEY + "=")
    msg = xml.encode()
    body = os.urandom(16) + struct.pack(">I", len(msg)) + msg + WX_APPID.encode()
    pad = 32 - len(body) % 32
    body += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


def wx_xml(account, n, ts):
    return ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[oBench%05d]]>"
            "</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>"
            % (account, n % CUSTOMERS, ts, TEXTS[n % len(TEXTS)], 7100000000000000000 + n))


def req_wechat_plain(n, ts):
    nonce = str(100000 + n % 900000)
    sig = sha1_sorted(WX_TOKEN, str(ts), nonce)
    path = "/webhooks/wechat/gh-plain?signature=%s&timestamp=%d&nonce=%s" % (sig, ts, nonce)
    return "POST", path, ["Content-Type: text/xml"], wx_xml("gh-plain", n, ts)


def req_wechat_safe(n, ts):
    nonce = str(100000 + n % 900000)
    enc = wx_encrypt(wx_xml("gh-safe", n, ts))
    msig = sha1_sorted(WX_TOKEN, str(ts), nonce, enc)
    path = ("/webhooks/wechat/gh-safe?signature=%s&timestamp=%d&nonce=%s&encrypt_type=aes"
            "&msg_signature=%s" % (sha1_sorted(WX_TOKEN, str(ts), nonce), ts, nonce, msig))
    body = ("<xml><ToUserName><![CDATA[gh-safe]]></ToUserName><Encrypt><![CDATA[%s]]>"
            "</Encrypt></xml>" % enc)
    return "POST", path, ["Content-Type: text/xml"], body


def req_meta(n, ts):
    wa = "1650555%04d" % (n % CUSTOMERS)
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Customer %d" % (n % CUSTOMERS)}, "wa_id": wa}],
            "messages": [{"from": wa, "id": "wamid.bench%012d" % n, "timestamp": str(ts),
                          "type": "text", "text": {"body": TEXTS[n % len(TEXTS)]}}]}}]}]},
        separators=(",", ":"), ensure_ascii=False)
    sig = hmac.new(META_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    return ("POST", "/webhooks/meta/106540352242922",
            ["Content-Type: application/json", "X-Hub-Signature-256: sha256=" + sig], body)


def req_telegram(n, ts):
    uid = 500000 + n % CUSTOMERS
    body = json.dumps({"update_id": 900000000 + n, "message": {
        "message_id": n, "date": ts, "text": TEXTS[n % len(TEXTS)],
        "from": {"id": uid, "is_bot": False, "first_name": "C%d" % uid},
        "chat": {"id": uid, "type": "private", "first_name": "C%d" % uid}}},
        separators=(",", ":"), ensure_ascii=False)
    return ("POST", "/webhooks/telegram/benchbot",
            ["Content-Type: application/json", "X-Telegram-Bot-Api-Secret-Token: " + TG_SECRET], body)


def req_line(n, ts):
    body = json.dumps({"destination": "Ubench", "events": [{
        "type": "message", "mode": "active", "timestamp": ts * 1000,
        "webhookEventId": "01HBENCH%018d" % n, "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": "U%032x" % (n % CUSTOMERS)},
        "replyToken": "rt%020d" % n,
        "message": {"type": "text", "id": str(480000000000 + n), "quoteToken": "q%d" % n,
                    "text": TEXTS[n % len(TEXTS)]}}]},
        separators=(",", ":"), ensure_ascii=False)
    sig = base64.b64encode(hmac.new(LINE_SECRET.encode(), body.encode(), hashlib.sha256).digest())
    return ("POST", "/webhooks/line/bench-line",
            ["Content-Type: application/json", "x-line-signature: " + sig.decode()], body)


def req_events(n, ts):
    body = json.dumps({"specversion": "1.0", "id": "bench-%012d" % n, "source": "/web",
                       "type": "com.switchboard.interaction", "tenant": TENANT,
                       "data": {"channel": "webchat", "customer": "web-%d" % (n % CUSTOMERS),
                                "text": TEXTS[n % len(TEXTS)]}},
                      separators=(",", ":"), ensure_ascii=False)
    return ("POST", "/v1/events",
            ["Content-Type: application/cloudevents+json", "Authorization: Bearer " + API_KEY], body)


TARGETS = {"events": req_events, "meta": req_meta, "wechat_plain": req_wechat_plain,
           "wechat_safe": req_wechat_safe, "telegram": req_telegram, "line": req_line}

# wrk's Lua: each thread loads its own file of requests (method, path, headers
# and body, tab-separated, one per line; bodies carry no tab or newline),
# formats them once, then sends them in turn.
WRK_LUA = r"""
local counter, reqs, pos = 0, {}, 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[1] .. "." .. tid) do
    local f, s = {}, 1
    while true do
      local e = string.find(line, "\t", s, true)
      if not e then f[#f + 1] = string.sub(line, s); break end
      f[#f + 1] = string.sub(line, s, e - 1)
      s = e + 1
    end
    local headers = {}
    for i = 3, #f - 1 do
      local k, v = string.match(f[i], "^([^:]+): (.*)$")
      if k then headers[k] = v end
    end
    reqs[#reqs + 1] = wrk.format(f[1], f[2], headers, f[#f])
  end
end
function request()
  pos = pos % #reqs + 1
  return reqs[pos]
end
"""


def write_requests(path, gen, start, count, ts):
    with open(path, "w", encoding="utf-8") as f:
        for n in range(start, start + count):
            method, p, headers, body = gen(n, ts)
            assert "\t" not in body and "\n" not in body
            f.write("\t".join([method, p] + headers + [body]) + "\n")


def parse_wrk(out):
    def dur_ms(v, unit):
        return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_s": rps, "p50_ms": dur_ms(*p50.groups()), "p99_ms": dur_ms(*p.groups()),
            "requests": total, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


def counters(admin_port):
    """Sums of ingest's accepted and duplicate counters (all labels)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin_port, timeout=5) as r:
        text = r.read().decode()
    out = {"accepted": 0.0, "duplicates": 0.0, "calls": 0.0}
    for line in text.splitlines():
        m = re.match(r"sb_ingest_(accepted|duplicates|webhook_duplicates|commit_calls)_total"
                     r"(\{[^}]*\})? ([\d.e+]+)$", line)
        if m:
            key = {"accepted": "accepted", "commit_calls": "calls"}.get(m.group(1), "duplicates")
            out[key] += float(m.group(3))
    return out


def wait_ready(admin_port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("sbctl up exited early (%d)" % proc.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % admin_port, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("ingest not ready after %d s" % timeout)


def start_ingest_alone(sbctl, tenants, log):
    """publish_bench --hold (beside sbctl): redis-server (AOF everysec) and
    sb-ingest on tenants, a sink in it on classify's port. Returns the
    process and the port offset it picked."""
    proc = subprocess.Popen([os.path.join(os.path.dirname(os.path.abspath(sbctl)), "publish_bench"),
                             "--hold", "--tenants", tenants],
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("publish_bench --hold exited (%s)" % proc.wait())
    return proc, json.loads(line)["port_offset"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sbctl", default="build/sbctl")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--per-thread", type=int, default=60000,
                    help="distinct requests written per wrk thread and round")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--ingest-alone", action="store_true",
                    help="redis-server and sb-ingest only, a sink on classify's port")
    ap.add_argument("--out", default=None,
                    help="folder for webhooks.json (default bench/results/<date>-webhooks)")
    a = ap.parse_args()
    targets = a.targets.split(",")
    for t in targets:
        if t not in TARGETS:
            raise SystemExit("unknown target %r (known: %s)" % (t, ", ".join(TARGETS)))
    work = tempfile.mkdtemp(prefix="sb-webhooks-")
    with open(os.path.join(work, "tenants.json"), "w") as f:
        json.dump(TENANTS, f)
    with open(os.path.join(work, "send.lua"), "w") as f:
        f.write(WRK_LUA)
    log = open(os.path.join(work, "sbctl-up.log"), "w")
    if a.ingest_alone:
        proc, off = start_ingest_alone(a.sbctl, os.path.join(work, "tenants.json"), log)
    else:
        off = free_offset()
        proc = subprocess.Popen([a.sbctl, "up", "--tenants", os.path.join(work, "tenants.json"),
                                 "--port-offset", str(off), "--logs", work],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    results = {t: [] for t in targets}
    try:
        wait_ready(9101 + off, proc)
        seq = 0
        for r in range(a.rounds):
            for t in targets:
                ts = int(time.time())
                base = os.path.join(work, "req-%s" % t)
                for tid in range(2):
                    write_requests("%s.%d" % (base, tid), TARGETS[t], seq, a.per_thread, ts)
                    seq += a.per_thread
                before = counters(9101 + off)
                out = subprocess.run(["wrk", "-t2", "-c%d" % a.connections, "-d%ds" % a.seconds,
                                      "--latency", "-s", os.path.join(work, "send.lua"),
                                      "http://127.0.0.1:%d" % (8080 + off), "--", base],
                                     capture_output=True, text=True, check=True).stdout
                res = parse_wrk(out)
                after = counters(9101 + off)
                res["accepted"] = int(after["accepted"] - before["accepted"])
                res["duplicates"] = int(after["duplicates"] - before["duplicates"])
                calls = after["calls"] - before["calls"]
                res["events_per_commit_call"] = round(
                    (res["accepted"] + res["duplicates"]) / calls, 2) if calls else None
                res["wrapped"] = res["requests"] > 2 * a.per_thread
                results[t].append(res)
                print("round %d %-13s %9.0f req/s  p99 %7.2f ms  non-2xx %d  accepted %d  dup %d"
                      "  events/call %s"
                      % (r + 1, t, res["requests_per_s"], res["p99_ms"], res["non_2xx"],
                         res["accepted"], res["duplicates"], res["events_per_commit_call"]),
                      file=sys.stderr)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    sink = None
    if a.ingest_alone:  # {"hold": false, "sink_received": N}
        last = [json.loads(l) for l in proc.stdout.read().splitlines() if l.strip()]
        sink = last[-1].get("sink_received") if last else None
    summary = {"connections": a.connections, "threads": 2, "seconds": a.seconds,
               "rounds": a.rounds, "persistence": "redis AOF appendfsync everysec (sbctl up)",
               "bus": "ingest alone (sink on classify's port)" if a.ingest_alone else "sbctl up",
               "targets": {}}
    if a.ingest_alone:
        summary["sink_received"] = sink
    for t, runs in results.items():
        summary["targets"][t] = {
            "requests_per_s_median": statistics.median(x["requests_per_s"] for x in runs),
            "p99_ms_median": statistics.median(x["p99_ms"] for x in runs),
            "p50_ms_median": statistics.median(x["p50_ms"] for x in runs),
            "non_2xx_total": sum(x["non_2xx"] for x in runs),
            "runs": runs}
    if "wechat_plain" in results and "wechat_safe" in results:
        ratios = [p["requests_per_s"] / s["requests_per_s"]
                  for p, s in zip(results["wechat_plain"], results["wechat_safe"])]
        summary["wechat_safe_cost_ratio_median"] = statistics.median(ratios)
    out_dir = a.out or os.path.join("bench", "results",
                                    time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime()) + "-webhooks")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "webhooks.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    print("results: %s" % out_dir, file=sys.stderr)


if __name__ == "__main__":
    main()
