"""`percept serve` under load (issue 16): prediction latency for one photo, throughput with 16 clients, and the
CLI's batch rate on the same photos, for a linear model and (when ../shared has the backbone) a transfer model.

    python3 Benchmarks/peers/serve_load.py PERCEPT_BINARY [--seconds 15] [--clients 16]

Sets up everything in a temporary folder: the built-in dataset (PNG folders, zipped) uploaded through the API,
a softmax model and a transfer model (EfficientNet-Lite0, registered in a private cache) trained by the server,
and 500×375 JPEG photos written with Pillow. Latency: 200 requests one after another, each one photo
(multipart POST /api/models/{id}/predict), p50/p99 in ms. Throughput: `clients` threads posting one photo per
request for `seconds`, photos per second; the same with curl's parallel transfers (`curl -Z`, a C client that leaves
the cores to the server). CLI: `percept predict MODEL FOLDER --json` over 200 photos, photos per
second including the process start (median of 5 runs; for softmax also over 1,000 photos). One JSON line per
measurement.
"""
import argparse
import io
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile

from PIL import Image


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(fields, files):
    boundary = "----percept" + uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode())
    for name, filename, data in files:
        body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n".encode())
        body.write(data)
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def call(base, method, path, body=None, content_type=None):
    request = urllib.request.Request(base + path, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read() or b"null")


def wait(base, path, field, values, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        document = call(base, "GET", path)
        if document.get(field) in values:
            return document
        time.sleep(0.2)
    raise RuntimeError(f"{path}: {field} never became {values}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("percept")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--models", default="softmax,transfer", help="which of softmax,transfer to measure")
    args = parser.parse_args()
    percept = os.path.abspath(args.percept)
    work = tempfile.mkdtemp(prefix="percept-serve-load-")
    env = dict(os.environ, PERCEPT_CACHE=f"{work}/cache")
    server = None
    try:
        subprocess.run([percept, "dataset", "synthesize", "-o", f"{work}/shapes", "--folders", "--per-class", "60",
                        "--size", "64x64"], check=True, capture_output=True)
        with zipfile.ZipFile(f"{work}/shapes.zip", "w") as z:
            for folder, _, files in os.walk(f"{work}/shapes"):
                for name in files:
                    z.write(os.path.join(folder, name), os.path.relpath(os.path.join(folder, name), f"{work}/shapes"))
        os.makedirs(f"{work}/photos")
        source = sorted(os.path.join(f, n) for f, _, ns in os.walk(f"{work}/shapes") for n in ns)
        for i in range(200):
            Image.open(source[i * 3 % len(source)]).convert("RGB").resize((500, 375)).save(f"{work}/photos/{i:03d}.jpg", quality=90)
        os.makedirs(f"{work}/photos1000")
        for i in range(1000):
            shutil.copyfile(f"{work}/photos/{i % 200:03d}.jpg", f"{work}/photos1000/{i:04d}.jpg")
        photo = open(f"{work}/photos/000.jpg", "rb").read()

        backbone = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models", "efficientnet-lite0.onnx")
        wanted = args.models.split(",")
        families = [("softmax", {"epochs": "3"})] if "softmax" in wanted else []
        if os.path.exists(backbone) and "transfer" in wanted:
            subprocess.run([percept, "backbone", "add", backbone, "--name", "efficientnet-lite0"], check=True,
                           capture_output=True, env=env)
            families.append(("transfer", {"backbone": "efficientnet-lite0", "l2": "0.001"}))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([percept, "serve", "--port", str(port), "--data-dir", f"{work}/data"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                call(base, "GET", "/api/datasets")
                break
            except OSError:
                time.sleep(0.1)
        body, content_type = multipart({"name": "shapes"}, [("file", "shapes.zip", open(f"{work}/shapes.zip", "rb").read())])
        dataset = call(base, "POST", "/api/datasets", body, content_type)["id"]
        wait(base, f"/api/datasets/{dataset}", "state", ["ready"])
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} load: {os.getloadavg()}", flush=True)

        for family, options in families:
            run = call(base, "POST", f"/api/datasets/{dataset}/runs", json.dumps({"model": family, "options": options}).encode(),
                       "application/json")["id"]
            model = wait(base, f"/api/runs/{run}", "state", ["succeeded", "failed"])
            if model["state"] != "succeeded":
                raise RuntimeError(f"{family}: {model}")
            model_id = model["modelId"]
            predict_body, predict_type = multipart({}, [("file", "photo.jpg", photo)])
            path = f"/api/models/{model_id}/predict?top=3"
            for _ in range(5):
                call(base, "POST", path, predict_body, predict_type)   # warm-up: the model is loaded once
            latencies = []
            for _ in range(200):
                start = time.perf_counter()
                call(base, "POST", path, predict_body, predict_type)
                latencies.append((time.perf_counter() - start) * 1000)
            latencies.sort()
            print(json.dumps({"tool": "percept-serve", "model": family, "measure": "latency one 500x375 JPEG",
                              "requests": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
                              "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2)}), flush=True)

            counts, errors = [0] * args.clients, [0] * args.clients
            stop = time.time() + args.seconds

            def client(index):
                while time.time() < stop:
                    try:
                        call(base, "POST", path, predict_body, predict_type)
                        counts[index] += 1
                    except OSError:
                        errors[index] += 1

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            print(json.dumps({"tool": "percept-serve", "model": family, "measure": f"{args.clients} clients (Python threads)",
                              "photos_per_second": round(sum(counts) / elapsed, 1), "errors": sum(errors)}), flush=True)
            if shutil.which("curl"):
                # curl's parallel transfers: a C client reusing its connections, so the clients hardly take the
                # server's cores as Python's threads do. A fixed count sized from the Python run to last about as long.
                requests = max(200, int(sum(counts) / elapsed * args.seconds))
                with open(f"{work}/predict-body", "wb") as f:
                    f.write(predict_body)
                with open(f"{work}/photo.jpg", "wb") as f:
                    f.write(photo)
                # Multipart as the browser sends it; then each photo as the whole body (no multipart to parse).
                for label, body_file, content_type, query in [("curl -Z", "predict-body", predict_type, ""),
                                                               ("curl -Z, raw body", "photo.jpg", "image/jpeg", "&name=photo.jpg")]:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    result = subprocess.run(["curl", "-s", "-Z", "--parallel-max", str(args.clients), "--data-binary",
                                             f"@{work}/{body_file}", "-H", f"Content-Type: {content_type}", "-o", "/dev/null",
                                             "-w", "%{http_code} %{time_total}\n", f"{base}{path}{query}&n=[1-{requests}]"],
                                            capture_output=True, text=True)
                    elapsed = time.perf_counter() - start
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    rows = [line.split() for line in result.stdout.splitlines() if len(line.split()) == 2]
                    times = sorted(float(t) * 1000 for _, t in rows)
                    print(json.dumps({"tool": "percept-serve", "model": family, "measure": f"{args.clients} clients ({label})",
                                      "photos_per_second": round(len(rows) / elapsed, 1),
                                      "errors": sum(1 for code, _ in rows if code != "200") + requests - len(rows),
                                      "p50_ms": round(times[len(times) // 2], 2) if times else None,
                                      "p99_ms": round(times[int(len(times) * 0.99) - 1], 2) if times else None,
                                      "client_cpu_seconds": round((after.ru_utime + after.ru_stime)
                                                                  - (before.ru_utime + before.ru_stime), 2)}), flush=True)

            saved = f"{work}/{family}.percept"
            urllib.request.urlretrieve(f"{base}/api/models/{model_id}/file", saved)
            # The CLI's rate: the median of 5 runs over the 200 photos (one run is a quarter second for a
            # linear model, so single runs scatter by ±10%), and for a linear model once more over 1,000
            # (the same photos five times), where the process start weighs less.
            for folder, count in [("photos", 200)] + ([("photos1000", 1000)] if family == "softmax" else []):
                rates = []
                for _ in range(5):
                    start = time.perf_counter()
                    subprocess.run([percept, "predict", saved, f"{work}/{folder}", "--json"], check=True, capture_output=True,
                                   env=env)
                    rates.append(count / (time.perf_counter() - start))
                print(json.dumps({"tool": "percept-predict", "model": family, "measure": f"CLI batch, {count} photos",
                                  "photos_per_second": round(statistics.median(rates), 1),
                                  "runs": [round(r, 1) for r in rates]}), flush=True)
        return 0
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
