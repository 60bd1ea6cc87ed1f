"""The web app end to end in a real browser: headless Chromium driven over the DevTools protocol.

    python3 Tests/Browser/webapp_flow.py PERCEPT_BINARY ARTEFACT_FOLDER

Starts `percept serve` on a free port with a fresh data folder, draws the built-in dataset as PNG folders and
zips them, then, in the browser: creates a small dataset from six images chosen in the drop form with labels
typed into the page, uploads the zip on the home page, waits for the dataset page to show the label
chart, the few-images warning and the thumbnails, changes the split to 70/15/15, trains k-NN and a one-epoch
tiny CNN from the page's form, watches progress and the training curve arrive on each run page, opens the k-NN
model's evaluation, moves the threshold slider, clicks a confusion cell to see its test images, and uploads a
photo to read its prediction. A
screenshot of each page goes to ARTEFACT_FOLDER.

Exit status 0 when every step passed, 1 on a failure (the step and what the page showed are printed), 77 when
something it needs is missing (Chromium, or the `websockets` package) — the Swift test skips then.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

try:
    from websockets.sync.client import connect
except ImportError:
    print("webapp_flow: the websockets package is missing (pip install websockets)", file=sys.stderr)
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """One browser tab, spoken to with the DevTools protocol's commands."""

    def __init__(self, url):
        # connect() is meant for a with-block; the page holds its connection open for its whole life instead.
        self.socket = connect(url, max_size=64 << 20).__enter__()
        self.next_id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === " + json.dumps(url), "loading " + url)

    def wait_for(self, condition, what, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(f"Boolean({condition})"):
                    return
            except RuntimeError:
                pass  # the page is changing under us; ask again
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}; the page says: {self.text()[:600]}")

    def text(self):
        try:
            return self.evaluate("document.body ? document.body.innerText : ''") or ""
        except RuntimeError as error:
            return str(error)

    def set_files(self, selector, paths):
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise AssertionError(f"no element {selector}")
        self.send("DOM.setFileInputFiles", nodeId=node, files=paths)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def main():
    percept, artefacts = sys.argv[1], sys.argv[2]
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if not browser:
        print("webapp_flow: headless Chromium is not installed (apt-get install chromium-headless-shell)", file=sys.stderr)
        sys.exit(77)
    os.makedirs(artefacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="percept-webapp-")
    processes = []
    step = "setting up"
    try:
        # The built-in dataset as PNG folders, zipped as a user would.
        subprocess.run([percept, "dataset", "synthesize", "-o", f"{work}/shapes", "--folders", "--per-class", "24",
                        "--size", "32x32"], check=True, capture_output=True)
        archive = f"{work}/shapes.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for folder, _, files in os.walk(f"{work}/shapes"):
                for name in files:
                    path = os.path.join(folder, name)
                    z.write(path, os.path.relpath(path, work))
        photo = next(os.path.join(folder, name) for folder, _, files in os.walk(f"{work}/shapes") for name in sorted(files))

        port = free_port()
        server = subprocess.Popen([percept, "serve", "--port", str(port), "--data-dir", f"{work}/data"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(server)
        home = f"http://127.0.0.1:{port}/"
        for _ in range(200):
            try:
                urllib.request.urlopen(home, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        devtools = free_port()
        chromium = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={devtools}",
                                     f"--user-data-dir={work}/profile", "--window-size=1280,1600", "about:blank"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(chromium)
        targets = None
        for _ in range(200):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{devtools}/json/list", timeout=1))
                if any(t.get("type") == "page" for t in targets):
                    break
            except OSError:
                time.sleep(0.1)
        page = Page(next(t for t in targets if t.get("type") == "page")["webSocketDebuggerUrl"])

        step = "the home page"
        page.goto(home)
        page.wait_for("document.querySelector('#upload-form')", "the upload form")
        page.screenshot(f"{artefacts}/1-home.png")

        step = "dropping labelled images"
        # Two labels' first images chosen one by one in the drop form, each given its label in the page.
        chosen = [os.path.join(f"{work}/shapes/{label}", name) for label in ("circle", "square")
                  for name in sorted(os.listdir(f"{work}/shapes/{label}"))[:3]]
        page.set_files("#drop-form .drop-input", chosen)
        page.wait_for("document.querySelectorAll('#drop-form .drop-list tbody tr').length === 6", "the chosen images listed")
        page.evaluate("document.querySelectorAll('#drop-form .drop-list input').forEach((input, i) =>"
                      " { input.value = i < 3 ? 'round' : 'square'; })")
        page.evaluate("document.querySelector('#drop-form input[name=name]').value = 'dropped'")
        page.evaluate("document.querySelector('#drop-form').requestSubmit()")
        page.wait_for("/\\/datasets\\/\\d+$/.test(location.pathname)", "the dropped dataset's page")
        page.wait_for("document.body.innerText.includes('ready')", "the dropped images' import")
        text = page.text()
        assert "round" in text and "square" in text, "the typed labels are not the dataset's: " + text[:400]
        page.goto(home)
        page.wait_for("document.querySelector('#upload-form')", "the upload form")

        step = "uploading the dataset"
        page.evaluate("document.querySelector('#upload-form input[name=name]').value = 'shapes'")
        page.set_files("#upload-form input[type=file]", [archive])
        page.evaluate("document.querySelector('#upload-form').requestSubmit()")
        page.wait_for("/\\/datasets\\/\\d+$/.test(location.pathname)", "the dataset page")
        page.wait_for("document.body.innerText.includes('ready')", "the import to finish")
        page.wait_for("document.querySelector('svg')", "the label chart")
        text = page.text()
        assert "240" in text, "the dataset page does not say 240 images: " + text[:400]
        assert re.search(r"fewer than 100|100 per label|at least 100", text), "no few-images warning: " + text[:600]
        step = "the dataset's thumbnails and split"
        page.wait_for("Array.from(document.querySelectorAll('#thumbnails img')).some(i => i.complete && i.naturalWidth > 0)",
                      "a thumbnail to load")
        assert page.evaluate("document.querySelectorAll('#thumbnails .thumb-row').length") >= 2, "no thumbnail row per label"
        assert re.search(r"colour mode", text), "no colour modes on the dataset page: " + text[:600]
        page.evaluate("(() => { const f = document.querySelector('#split-form'); f.elements.train.value = 70;"
                      " f.elements.validation.value = 15; f.elements.test.value = 15; f.requestSubmit(); })()")
        page.wait_for("document.querySelector('#split-form .form-status').textContent.includes('70/15/15')", "the new split")
        # 24 images a label: 70% is 16.8, cut at 17 train, 85% at 20.4, so 3 validation and 4 test, times 10 labels.
        page.wait_for("document.querySelector('#split-counts').innerText.includes('170')", "the new train count (17 of each 24)")
        page.screenshot(f"{artefacts}/2-dataset.png")
        dataset_url = page.evaluate("location.href")

        runs = {}
        for family, options in [("knn", {}), ("cnn", {"arch": "tiny", "epochs": "1"})]:
            step = f"training {family}"
            page.goto(dataset_url)
            page.wait_for("document.querySelector('#run-form')", "the run form")
            page.evaluate("(() => { const s = document.querySelector('#run-form select[name=model]');"
                          f" s.value = {json.dumps(family)}; s.dispatchEvent(new Event('change')); }})()")
            for name, value in options.items():
                page.evaluate(f"document.querySelector(\"#run-form fieldset[data-family='{family}'] [name='{name}']\").value"
                              f" = {json.dumps(value)}")
            page.evaluate("document.querySelector('#run-form').requestSubmit()")
            page.wait_for("/\\/runs\\/\\d+$/.test(location.pathname)", "the run page")
            page.wait_for("['succeeded', 'failed', 'cancelled'].includes("
                          "document.querySelector('.run-state').textContent.trim())", "the run to end", timeout=300)
            state = page.evaluate("document.querySelector('.run-state').textContent.trim()")
            assert state == "succeeded", f"the {family} run ended {state}: {page.text()[:600]}"
            page.wait_for("document.querySelector('.run-model a')", "the link to the model")
            runs[family] = page.evaluate("document.querySelector('.run-model a').href")
            page.screenshot(f"{artefacts}/3-run-{family}.png")
        # Progress arrived while the CNN trained (the log lists the messages the events carried), and its curve was drawn.
        assert page.evaluate("document.querySelectorAll('.run-log li').length") >= 1, "no progress reached the CNN's page"
        assert page.evaluate("document.querySelectorAll('svg.run-curve circle').length") >= 1, "no point on the training curve"

        step = "the evaluation"
        page.goto(runs["knn"])
        page.wait_for("document.body.innerText.toLowerCase().includes('precision')", "the evaluation table")
        text = page.text()
        assert re.search(r"accuracy", text, re.I), "no accuracy on the model page: " + text[:400]
        step = "the threshold slider and a confusion cell"
        # The page's numbers at a threshold against the same sums done here from the predictions it embeds
        # (rows [image, truth, predicted, confidence]).
        data = json.loads(page.evaluate("document.querySelector('#test-predictions').getAttribute('data-predictions')"))
        items = data["items"]
        for threshold in (0.99, 0.5, 0.0):
            page.evaluate("(() => { const s = document.querySelector('input.threshold');"
                          f" s.value = {threshold}; s.dispatchEvent(new Event('input')); }})()")
            kept = [item for item in items if item[3] >= threshold]
            right = sum(1 for item in kept if item[1] == item[2])
            counted = page.evaluate("document.querySelector('.threshold-counted').textContent")
            assert counted == f"{len(kept)} of {len(items)}", f"at {threshold} the page counts {counted}, not {len(kept)}"
            shown = page.evaluate("document.querySelector('.threshold-precision').textContent")
            expected = f"{100 * right / len(kept):.1f}%" if kept else "–"
            assert shown == expected, f"at {threshold} the page's precision is {shown}, not {expected}"
            assert page.evaluate("document.querySelector('.threshold-value').textContent") == f"{threshold:.2f}"
        page.evaluate("document.querySelector('table.heatmap tbody tr td').click()")
        page.wait_for("Array.from(document.querySelectorAll('.cell-images img')).some(i => i.complete && i.naturalWidth > 0)",
                      "the clicked cell's test images")
        page.screenshot(f"{artefacts}/4-evaluation.png")

        step = "predicting a photo"
        page.set_files("#predict-form input[type=file]", [photo])
        page.evaluate("document.querySelector('#predict-form').requestSubmit()")
        page.wait_for("document.querySelector('table.predictions tbody tr')", "the prediction")
        answer = page.evaluate("document.querySelector('table.predictions tbody tr').innerText")
        assert "%" in answer and os.path.basename(photo) in answer, "the prediction row reads: " + answer
        page.screenshot(f"{artefacts}/5-prediction.png")
        print(f"webapp_flow: every step passed; screenshots in {artefacts}")
        return 0
    except (AssertionError, RuntimeError, subprocess.CalledProcessError, StopIteration, TimeoutError) as error:
        print(f"webapp_flow: {step}: {error}", file=sys.stderr)
        return 1
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if processes and processes[0].stdout:
            log = processes[0].stdout.read()
            if log:
                with open(f"{artefacts}/server.log", "w") as f:
                    f.write(log)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
