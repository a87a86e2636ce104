#!/usr/bin/python3
"""Drives a running `mnist serve` (tests/e2e/test_serve.sh starts it): every endpoint, results
equal to `mnist predict --json` for the same images, malformed and oversized requests, wrong
methods, path traversal, broken HTTP, 32 concurrent clients, then the metrics.

usage: serve_client.py URL IMAGES_DIR PREDICT_JSONL NUMBERS_JSONL MODEL_FILE SECRET
"""

import http.client
import json
import socket
import sys
import threading
import urllib.parse

url, images_dir, predict_jsonl, numbers_jsonl, model_file, secret = sys.argv[1:7]
parsed = urllib.parse.urlparse(url)
HOST, PORT = parsed.hostname, parsed.port
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def request(method, path, body=None, headers=None, conn=None):
    c = conn or http.client.HTTPConnection(HOST, PORT, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def json_of(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def raw_request(text):
    """Sends bytes as they are (no client-side normalisation); returns the whole reply."""
    with socket.create_connection((HOST, PORT), timeout=10) as s:
        try:
            s.sendall(text)
            s.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before taking it all
            pass
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


def expect_error(method, path, status, body=None, headers=None):
    st, h, data = request(method, path, body, headers)
    j = json_of(data)
    check(st == status, f"{method} {path}: status {st}, expected {status}: {data[:200]!r}")
    check(isinstance(j, dict) and isinstance(j.get("error"), str) and j["error"],
          f"{method} {path}: expected a JSON error, got {data[:200]!r}")
    return h


TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
         "pgm": "image/x-portable-graymap", "ppm": "image/x-portable-pixmap"}
images = open(f"{images_dir}/t10k-raw.bin", "rb").read()  # the first 100 test images, 784 bytes each

# ---- health, models -------------------------------------------------------------------------
st, _, data = request("GET", "/healthz")
check(st == 200 and json_of(data) == {"status": "ok"}, f"/healthz: {st} {data!r}")
st, _, data = request("GET", "/api/models")
models = json_of(data)
check(st == 200 and [m["name"] for m in models["models"]] == ["mnist-cnn-f32", "mnist-fc-f32"], f"/api/models: {data!r}")
check(models["default"] == "mnist-cnn-f32", "default model")

# ---- /api/predict: images give what `mnist predict --json` gives -------------------------------
for line in open(predict_jsonl):
    want = json.loads(line)
    name = want["file"].rsplit("/", 1)[1]
    body = open(want["file"], "rb").read()
    st, h, data = request("POST", "/api/predict", body, {"Content-Type": TYPES[name.rsplit(".", 1)[1]]})
    got = json_of(data)
    check(st == 200 and h["content-type"] == "application/json", f"{name}: {st} {data[:200]!r}")
    if st != 200:
        continue
    check(got["digit"] == want["digit"] and got["probabilities"] == want["probabilities"],
          f"{name}: served {got['digit']} {got['probabilities'][:3]}, predict says {want['digit']}")
    check(len(got["input"]) == 784 and got["input"] == want["input"], f"{name}: input")
    check(got["model"] == "mnist-cnn-f32" and isinstance(got["time_us"], int), f"{name}: model, time_us")
    # Sniffed without a content type, too.
    st, _, data = request("POST", "/api/predict", body, {"Content-Type": "application/octet-stream"})
    check(st == 200 and json_of(data)["digit"] == want["digit"], f"{name} as octet-stream: {st}")
print("images: served predictions equal mnist predict's")

for line in open(numbers_jsonl):
    want = json.loads(line)
    st, _, data = request("POST", "/api/predict?number", open(want["file"], "rb").read(), {"Content-Type": "image/png"})
    got = json_of(data)
    check(st == 200 and got["number"] == want["number"] and len(got["digits"]) == len(want["number"]),
          f"number {want['file']}: {data[:200]!r}")

# ---- raw bytes and JSON pixels, both models ----------------------------------------------------
reference = {}
for model in ("mnist-cnn-f32", "mnist-fc-f32"):
    raw = images[:784]
    st, _, data = request("POST", "/api/predict?model=" + model, raw, {"Content-Type": "application/octet-stream"})
    got = json_of(data)
    check(st == 200 and got["digit"] == 7 and got["model"] == model, f"raw {model}: {data[:200]!r}")
    st, _, data2 = request("POST", "/api/predict?model=" + model, json.dumps({"pixels": list(raw)}),
                           {"Content-Type": "application/json"})
    check(st == 200 and json_of(data2)["probabilities"] == got["probabilities"], f"JSON pixels {model}: {data2[:200]!r}")
    rows = [list(raw[r * 28:(r + 1) * 28]) for r in range(28)]
    st, _, data3 = request("POST", "/api/predict?model=" + model, json.dumps({"pixels": rows}),
                           {"Content-Type": "application/json; charset=utf-8"})
    check(st == 200 and json_of(data3)["probabilities"] == got["probabilities"], f"JSON rows {model}")
# What curl --data-binary sends without -H: a form type, taken as no type (the body is sniffed).
st, _, data = request("POST", "/api/predict", images[:784], {"Content-Type": "application/x-www-form-urlencoded"})
check(st == 200 and json_of(data)["digit"] == 7, f"raw body as curl sends it: {data[:200]!r}")
for i in range(100):
    st, _, data = request("POST", "/api/predict", images[i * 784:(i + 1) * 784])
    reference[i] = json_of(data)["digit"]

# ---- KServe v2 ---------------------------------------------------------------------------------
check(json_of(request("GET", "/v2/health/live")[2]) == {"live": True}, "/v2/health/live")
check(json_of(request("GET", "/v2/health/ready")[2]) == {"ready": True}, "/v2/health/ready")
check(json_of(request("GET", "/v2")[2])["name"] == "mnist.cpp", "/v2")
meta = json_of(request("GET", "/v2/models/mnist-fc-f32")[2])
check(meta["name"] == "mnist-fc-f32" and meta["inputs"][0]["shape"] == [-1, 784], f"model metadata {meta}")
check(json_of(request("GET", "/v2/models/mnist-cnn-f32/ready")[2]) == {"name": "mnist-cnn-f32", "ready": True}, "ready")
batch = list(images[:5 * 784])
for shape, data in (([5, 784], batch), ([5, 28, 28], [[batch[i * 784 + r * 28:i * 784 + (r + 1) * 28] for r in range(28)] for i in range(5)])):
    st, _, out = request("POST", "/v2/models/mnist-cnn-f32/infer",
                         json.dumps({"id": "t1", "inputs": [{"name": "pixels", "shape": shape, "datatype": "UINT8", "data": data}]}))
    got = json_of(out)
    check(st == 200 and got["id"] == "t1" and got["model_name"] == "mnist-cnn-f32", f"infer {shape}: {out[:200]!r}")
    if st == 200:
        outs = {o["name"]: o for o in got["outputs"]}
        check(outs["digit"]["data"] == [reference[i] for i in range(5)], f"infer digits {outs['digit']['data']}")
        check(outs["probabilities"]["shape"] == [5, 10] and len(outs["probabilities"]["data"]) == 50, "infer probabilities")
st, _, out = request("POST", "/v2/models/mnist-cnn-f32/infer",
                     json.dumps({"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": [v / 255 for v in batch[:784]]}]}))
check(st == 200 and json_of(out)["outputs"][1]["data"] == [7], f"infer FP32: {out[:200]!r}")
expect_error("POST", "/v2/models/mnist-cnn-f32/infer", 400, json.dumps({"inputs": [{"name": "p", "shape": [2, 784], "datatype": "UINT8", "data": batch[:784]}]}))
expect_error("POST", "/v2/models/mnist-cnn-f32/infer", 400, json.dumps({"inputs": [{"name": "p", "shape": [1, 700], "datatype": "UINT8", "data": batch[:700]}]}))
expect_error("POST", "/v2/models/mnist-cnn-f32/infer", 400, json.dumps({"inputs": []}))
expect_error("POST", "/v2/models/mnist-cnn-f32/infer", 400, "{not json")
expect_error("POST", "/v2/models/nope/infer", 404, "{}")
expect_error("GET", "/v2/models/mnist-cnn-f32/infer", 405)
expect_error("GET", "/v2/nothing", 404)

# ---- bad requests --------------------------------------------------------------------------------
h = expect_error("GET", "/api/predict", 405)
check(h.get("allow") == "POST", "405 names the method: Allow: POST")
expect_error("POST", "/api/predict", 415, b"hello", {"Content-Type": "text/plain"})
expect_error("POST", "/api/predict", 415, b"hello, not a PNG", {"Content-Type": "image/png"})
expect_error("POST", "/api/predict", 400, open(f"{images_dir}/truncated.png", "rb").read(), {"Content-Type": "image/png"})
expect_error("POST", "/api/predict", 413, open(f"{images_dir}/hostile-size.png", "rb").read(), {"Content-Type": "image/png"})
expect_error("POST", "/api/predict", 400, images[:100], {"Content-Type": "application/octet-stream"})
expect_error("POST", "/api/predict", 400, "{\"pixels\": [1, 2", {"Content-Type": "application/json"})
expect_error("POST", "/api/predict", 400, json.dumps({"pixels": [300] * 784}), {"Content-Type": "application/json"})
expect_error("POST", "/api/predict", 400, json.dumps({"pixels": ["a"] * 784}), {"Content-Type": "application/json"})
expect_error("POST", "/api/predict", 400, json.dumps([1, 2]), {"Content-Type": "application/json"})
expect_error("POST", "/api/predict?model=nope", 404, images[:784])
# JSON nested deeper than the limit (8 levels), for both JSON endpoints: 400, not a deep recursion.
deep = "[" * 100000 + "]" * 100000
expect_error("POST", "/api/predict", 400, '{"pixels": ' + deep + '}', {"Content-Type": "application/json"})
expect_error("POST", "/v2/models/mnist-fc-f32/infer", 400,
             '{"inputs": [{"name": "p", "shape": [1, 784], "datatype": "UINT8", "data": ' + deep + '}]}')
st, _, data = request("POST", "/api/predict", '{"pixels": ' + "[" * 9 + "0" + "]" * 9 + '}', {"Content-Type": "application/json"})
check(st == 400 and b"nested deeper than 8 levels" in data, f"9 levels of JSON: {st} {data[:200]!r}")
# Over the limit: answered 413 from the headers alone (a client that asks first, as curl does
# for large bodies, sends none of it; one that sends it anyway may see the connection reset).
with socket.create_connection((HOST, PORT), timeout=10) as s:
    s.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\nExpect: 100-continue\r\n\r\n")
    reply = s.recv(65536)
check(reply.startswith(b"HTTP/1.1 413") and b"over the limit" in reply, f"2 MB body: {reply[:100]!r}")
try:
    raw_request(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n" + bytes(2097152))
except OSError:
    pass
expect_error("POST", "/healthz", 405)
expect_error("DELETE", "/", 405)
expect_error("GET", "/api/nope", 404)
expect_error("GET", "/digits/99999.png", 404)
expect_error("GET", "/digits/12x.png", 404)
# A chunked body over the limit: refused as it arrives.
reply = raw_request(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    b"".join(b"%x\r\n%s\r\n" % (65536, b"\0" * 65536) for _ in range(20)) + b"0\r\n\r\n")
check(reply.startswith(b"HTTP/1.1 413"), f"chunked body over the limit: {reply[:100]!r}")

# ---- files: the page, the models, test digits ---------------------------------------------------
st, h, data = request("GET", "/")
check(st == 200 and h["content-type"].startswith("text/html") and b'id="prediction"' in data, f"GET /: {st}")
st, h, data = request("GET", "/sub/engine.wasm")
check(st == 200 and h["content-type"] == "application/wasm" and data.startswith(b"\0asm"), f"a .wasm file: {st} {h}")
st, h, data = request("GET", "/models/mnist-cnn-f32.gguf")
check(st == 200 and data == open(model_file, "rb").read(), f"model file: {st} {len(data)} bytes")
st, _, data = request("GET", "/models/web-only.gguf")
check(st == 200 and data == b"a model only in the web folder\n", f"a model file of the web folder: {st} {data!r}")
st, _, data = request("GET", "/sub/a.txt")
check(st == 200 and data == b"a file in a subfolder\n", f"/sub/a.txt: {st} {data!r}")
st, _, data = request("GET", "/digits/random")
d = json_of(data)
check(st == 200 and 0 <= d["index"] < 10000 and 0 <= d["label"] <= 9, f"/digits/random: {data!r}")
st, h, data = request("GET", d["url"])
check(st == 200 and h["content-type"] == "image/png" and data.startswith(b"\x89PNG"), f"{d['url']}: {st}")
st, _, data = request("POST", "/api/predict", data, {"Content-Type": "image/png"})
check(st == 200, "a served test digit predicts")

# ---- no way out of the served folders -------------------------------------------------------------
secret_text = open(secret, "rb").read()
for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub/../../secret.txt",
             "/sub/%2e%2e/%2e%2e/secret.txt", "/%252e%252e/secret.txt", "/sub/..%5c..%5csecret.txt", "/leak",
             "/leakdir/secret.txt", "//etc/passwd", "/models/..%2f..%2fsecret.txt", "/models/../../secret.txt",
             "/./index.html", "/sub//a.txt", "/..", "/models/", "/%00/../secret.txt"]:
    reply = raw_request(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    check(secret_text not in reply, f"GET {path} leaked the secret")
    if "%00" in path:  # the decoded path ends at the NUL: "/", the page
        continue
    check(reply.startswith(b"HTTP/1.1 404") or reply.startswith(b"HTTP/1.1 400"), f"GET {path}: {reply[:80]!r}")

# Headers over the limit (16 KB) are refused with 431, a path over it with 414; the server lives on.
reply = raw_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
check(reply.startswith(b"HTTP/1.1 431"), f"100 KB header: {reply[:80]!r}")
reply = raw_request(b"GET /" + b"a" * 50000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
check(reply.startswith(b"HTTP/1.1 414"), f"50 KB path: {reply[:80]!r}")
check(request("GET", "/healthz")[0] == 200, "alive after oversized headers")

# ---- broken HTTP: an answer or a closed connection, and the server lives on -----------------------
for junk in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n",
             b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"\x00\xff" * 100 + b"\r\n\r\n",
             b"GET / HTTP/9.9\r\n\r\n", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"]:
    reply = raw_request(junk)  # (a body cut short waits for the server's timeout: 3 s here)
    check(reply == b"" or reply[:10] in (b"HTTP/1.1 4", b"HTTP/1.1 5", b"HTTP/1.0 4", b"HTTP/1.0 5"),
          f"{junk[:40]!r}: {reply[:80]!r}")
check(request("GET", "/healthz")[0] == 200, "alive after broken HTTP")

# ---- 32 clients at once, each on one keep-alive connection ----------------------------------------
results, lock = [], threading.Lock()


def client(k):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    mine = []
    for j in range(25):
        i = (k * 25 + j) % 100
        model = "mnist-fc-f32" if j % 2 else "mnist-cnn-f32"
        st, _, data = request("POST", "/api/predict?model=" + model, images[i * 784:(i + 1) * 784],
                              {"Content-Type": "application/octet-stream"}, conn)
        mine.append((i, model, st, json_of(data)))
    conn.close()
    with lock:
        results.extend(mine)


threads = [threading.Thread(target=client, args=(k,)) for k in range(32)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(len(results) == 800 and all(st == 200 for _, _, st, _ in results), "32 clients: every request answered 200")
cnn = [(i, j) for i, m, _, j in results if m == "mnist-cnn-f32"]
check(all(j["digit"] == reference[i] for i, j in cnn), "32 clients: the same digits as one at a time")
print(f"32 concurrent clients: {len(results)} predictions, all 200")

# ---- metrics ----------------------------------------------------------------------------------------
st, h, data = request("GET", "/metrics")
text = data.decode()
check(st == 200 and h["content-type"].startswith("text/plain"), "metrics content type")
counts = {}
for line in text.splitlines():
    if line.startswith("mnist_http_requests_total{"):
        counts[line.split("}")[0] + "}"] = int(line.split()[-1])
check(counts.get('mnist_http_requests_total{endpoint="/api/predict",status="200"}', 0) >= 900, f"predict 200s counted: {counts}")
check(counts.get('mnist_http_requests_total{endpoint="/api/predict",status="413"}', 0) >= 2, "413s counted")
check('mnist_http_request_duration_seconds_bucket{le="+Inf"}' in text, "latency histogram")
check('mnist_predictions_total{model="mnist-fc-f32",digit="7"}' in text, "predictions by digit")

if failures:
    print(f"{len(failures)} checks failed", file=sys.stderr)
    sys.exit(1)
print("all server checks passed")
