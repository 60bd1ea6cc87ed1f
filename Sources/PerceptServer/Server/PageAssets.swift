import Percept

/// The pages' stylesheet and script, compiled into the binary (no bundle lookup, no CDN, no build step).
enum PageAssets {
    /// The HTML report's stylesheet, plus forms, progress and the header.
    static let stylesheet = HTMLDocument.stylesheet + "\n" + """
        nav { margin-bottom: 1em; } nav a { font-weight: bold; text-decoration: none; color: #2a5db0; }
        form { margin: 1em 0; padding: 1em; border: 1px solid #ddd; border-radius: 6px; background: #fafafa; }
        form label { display: block; margin: .4em 0; }
        form label span { display: inline-block; min-width: 8em; font-family: monospace; }
        form small { color: #666; }
        fieldset { border: 1px solid #e4e4e4; margin: .6em 0; }
        button { padding: .4em 1.2em; }
        progress { width: 20em; }
        .hidden { display: none; }
        .error { color: #b00020; }
        .muted { color: #777; }
        ol.run-log { font-family: monospace; font-size: 13px; color: #444; }
        .side-by-side { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
        .thumbnails img { margin: 2px; image-rendering: pixelated; border: 1px solid #ddd; }
        .thumb-row h3 { margin: .6em 0 .2em; font-size: 15px; }
        table.heatmap td { cursor: pointer; }
        table.heatmap td.selected { outline: 3px solid #2a5db0; }
        svg.run-curve { border: 1px solid #ddd; background: #fff; }
        figure.pr-curve { margin: 0; }
        .drop-zone { border: 2px dashed #aab; border-radius: 6px; padding: 1.5em; text-align: center; color: #555; background: #fff; }
        .drop-zone.over { border-color: #2a5db0; background: #eef3fb; }
        label.inline { display: inline; }
        table.drop-list input { width: 12em; }
        """

    /// Progressive behaviour for the forms and the live run page; every text from the server is set
    /// with `textContent`, never parsed as HTML.
    static let script = #"""
        "use strict";

        async function perceptSend(url, options) {
          const response = await fetch(url, options);
          let body = null;
          try { body = await response.json(); } catch (error) { body = null; }
          if (!response.ok) throw new Error(body && body.error ? body.error : response.status + " " + response.statusText);
          return body;
        }

        function perceptStatus(form, text, isError) {
          const status = form.querySelector(".form-status");
          if (!status) return;
          status.textContent = text;
          status.classList.toggle("error", Boolean(isError));
        }

        function perceptPercent(value) {
          return (typeof value === "number" && isFinite(value)) ? (value * 100).toFixed(1) + "%" : "–";
        }

        // Posts a new dataset with a progress bar (XMLHttpRequest reports upload progress, fetch does not),
        // then opens its page.
        function perceptUpload(form, data, statusText) {
          const bar = form.querySelector("progress");
          const request = new XMLHttpRequest();
          request.open("POST", form.action);
          request.upload.onprogress = function (progress) {
            if (progress.lengthComputable) { bar.classList.remove("hidden"); bar.value = progress.loaded / progress.total; }
          };
          request.onload = function () {
            let body = null;
            try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
            if (request.status === 201 && body && body.id !== undefined) { window.location = "/datasets/" + body.id; return; }
            perceptStatus(form, body && body.error ? body.error : "upload failed (" + request.status + ")", true);
          };
          request.onerror = function () { perceptStatus(form, "the upload did not reach the server", true); };
          perceptStatus(form, statusText, false);
          request.send(data);
        }

        // Home: upload an archive.
        document.querySelectorAll("form.js-upload").forEach(function (form) {
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            perceptUpload(form, new FormData(form), "uploading…");
          });
        });

        // Home: images dropped (or chosen) one by one, each with a label the user can edit; a dropped
        // folder per label gives its folder names. Sent as `file` and `label` pairs.
        document.querySelectorAll("form.js-drop").forEach(function (form) {
          const zone = form.querySelector(".drop-zone");
          const input = form.querySelector(".drop-input");
          const table = form.querySelector(".drop-list");
          const rows = table.querySelector("tbody");
          const chosen = [];
          function add(file, folderLabel) {
            const label = document.createElement("input");
            label.type = "text";
            label.maxLength = 100;
            label.value = folderLabel || form.querySelector(".drop-default-label").value;
            label.placeholder = "label";
            const row = document.createElement("tr");
            const name = document.createElement("td");
            name.textContent = file.name;
            const cell = document.createElement("td");
            cell.appendChild(label);
            row.append(name, cell);
            rows.appendChild(row);
            chosen.push({ file: file, label: label });
            table.classList.remove("hidden");
          }
          function walk(entry, folder) {
            if (entry.isFile) { entry.file(function (file) { add(file, folder); }); return; }
            if (entry.isDirectory) {
              const reader = entry.createReader();
              const readMore = function () {
                reader.readEntries(function (entries) {
                  if (entries.length === 0) return;
                  entries.forEach(function (child) { walk(child, entry.name); });
                  readMore();
                });
              };
              readMore();
            }
          }
          input.addEventListener("change", function () { Array.from(input.files).forEach(function (file) { add(file, ""); }); input.value = ""; });
          ["dragenter", "dragover"].forEach(function (type) {
            zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("over"); });
          });
          zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
          zone.addEventListener("drop", function (event) {
            event.preventDefault();
            zone.classList.remove("over");
            Array.from(event.dataTransfer.items || []).forEach(function (item) {
              const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
              if (entry) walk(entry, ""); else if (item.kind === "file") add(item.getAsFile(), "");
            });
          });
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            if (chosen.length === 0) { perceptStatus(form, "drop or choose some images first", true); return; }
            const unlabelled = chosen.filter(function (entry) { return entry.label.value.trim() === ""; });
            if (unlabelled.length > 0) { perceptStatus(form, unlabelled.length + " images have no label yet", true); return; }
            const data = new FormData();
            data.append("name", form.querySelector("input[name=name]").value);
            chosen.forEach(function (entry) { data.append("file", entry.file, entry.file.name); data.append("label", entry.label.value.trim()); });
            perceptUpload(form, data, "uploading " + chosen.length + " images…");
          });
        });

        // Dataset page while importing: reload once the import is over.
        document.querySelectorAll("[data-watch-dataset]").forEach(function (element) {
          const id = element.getAttribute("data-watch-dataset");
          const timer = setInterval(async function () {
            try {
              const dataset = await perceptSend("/api/datasets/" + id);
              const bar = element.querySelector("progress");
              if (bar) bar.value = dataset.progress;
              if (dataset.state !== "importing") { clearInterval(timer); window.location.reload(); }
            } catch (error) { clearInterval(timer); element.textContent = error.message; }
          }, 1000);
        });

        // Dataset page: the chosen family's options, sent as JSON (empty fields keep the defaults).
        document.querySelectorAll("form.js-run").forEach(function (form) {
          const choice = form.querySelector("select[name=model]");
          function showOptions() {
            form.querySelectorAll("fieldset[data-family]").forEach(function (fieldset) {
              fieldset.classList.toggle("hidden", fieldset.getAttribute("data-family") !== choice.value);
            });
          }
          choice.addEventListener("change", showOptions);
          showOptions();
          form.addEventListener("submit", async function (event) {
            event.preventDefault();
            const options = {};
            const fieldset = form.querySelector("fieldset[data-family='" + CSS.escape(choice.value) + "']");
            if (fieldset) fieldset.querySelectorAll("input, select").forEach(function (input) {
              if (input.type === "checkbox") { if (input.checked) options[input.name] = "true"; }
              else if (input.value !== "") options[input.name] = input.value;
            });
            try {
              perceptStatus(form, "starting…", false);
              const run = await perceptSend(form.action, {
                method: "POST", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ model: choice.value, options: options })
              });
              window.location = "/runs/" + run.id;
            } catch (error) { perceptStatus(form, error.message, true); }
          });
        });

        // Dataset page: new split percentages, sent as JSON; the counts table shows the result.
        document.querySelectorAll("form.js-split").forEach(function (form) {
          form.addEventListener("submit", async function (event) {
            event.preventDefault();
            const plan = {};
            ["train", "validation", "test", "seed"].forEach(function (name) { plan[name] = Number(form.elements[name].value); });
            if (plan.train + plan.validation + plan.test !== 100) {
              perceptStatus(form, "the percentages add up to " + (plan.train + plan.validation + plan.test) + ", not 100", true);
              return;
            }
            try {
              perceptStatus(form, "dividing…", false);
              const dataset = await perceptSend(form.action, {
                method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(plan)
              });
              const counts = dataset.splitCounts || {};
              const total = dataset.imageCount || 1;
              document.querySelectorAll("#split-counts tbody tr").forEach(function (row) {
                const cells = row.querySelectorAll("td");
                const count = counts[cells[0].textContent] || 0;
                cells[1].textContent = String(count);
                cells[2].textContent = perceptPercent(count / total);
              });
              perceptStatus(form, "split " + plan.train + "/" + plan.validation + "/" + plan.test + " with seed " + plan.seed, false);
            } catch (error) { perceptStatus(form, error.message, true); }
          });
        });

        // Run page: the training curve as an inline SVG, redrawn from each event's points
        // (loss scaled to its largest value, validation accuracy 0–100%).
        function perceptDrawCurve(svg, curve) {
          const ns = "http://www.w3.org/2000/svg";
          const width = 480, height = 220, left = 40, right = 10, top = 10, bottom = 30;
          svg.replaceChildren();
          function element(name, attributes, text) {
            const node = document.createElementNS(ns, name);
            Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
            if (text !== undefined) node.textContent = text;
            svg.appendChild(node);
            return node;
          }
          element("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, fill: "none", stroke: "#bbb" });
          element("text", { x: width / 2, y: height - 6, "font-size": 11, "text-anchor": "middle" }, "epoch");
          if (!curve || curve.length === 0) {
            element("text", { x: width / 2, y: height / 2, "font-size": 12, "text-anchor": "middle", fill: "#777" }, "no finished epoch yet");
            return;
          }
          const lastEpoch = Math.max.apply(null, curve.map(function (point) { return point.epoch; }));
          const losses = curve.map(function (point) { return point.loss; }).filter(function (loss) { return typeof loss === "number"; });
          const largestLoss = losses.length ? Math.max.apply(null, losses) || 1 : 1;
          function x(epoch) { return left + (lastEpoch <= 1 ? 0.5 : (epoch - 1) / (lastEpoch - 1)) * (width - left - right); }
          function y(fraction) { return top + (1 - fraction) * (height - top - bottom); }
          function line(key, scale, colour, className) {
            const points = curve.filter(function (point) { return typeof point[key] === "number"; })
              .map(function (point) { return x(point.epoch).toFixed(1) + "," + y(point[key] / scale).toFixed(1); });
            if (points.length === 0) return;
            element("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2, class: className });
            points.forEach(function (point) {
              const xy = point.split(",");
              element("circle", { cx: xy[0], cy: xy[1], r: 2.5, fill: colour });
            });
          }
          line("loss", largestLoss, "#2a5db0", "curve-loss");
          line("validationAccuracy", 1, "#2e8b57", "curve-validation");
          element("text", { x: left - 4, y: top + 10, "font-size": 10, "text-anchor": "end" }, "100%");
          element("text", { x: left - 4, y: height - bottom, "font-size": 10, "text-anchor": "end" }, "0");
          element("text", { x: left, y: height - bottom + 14, "font-size": 10 }, "1");
          element("text", { x: width - right, y: height - bottom + 14, "font-size": 10, "text-anchor": "end" }, String(lastEpoch));
        }

        function perceptSpeed(run) {
          const parts = [];
          if (typeof run.imagesPerSecond === "number") parts.push(Math.round(run.imagesPerSecond) + " images/s");
          if (typeof run.secondsRemaining === "number") parts.push("about " + Math.round(run.secondsRemaining) + " s left");
          return parts.join(" · ");
        }

        // Run page: live progress from the server-sent events until the run ends; a reload reconnects.
        document.querySelectorAll("#run[data-run]").forEach(function (section) {
          const id = section.getAttribute("data-run");
          const finalStates = ["succeeded", "failed", "cancelled", "interrupted"];
          const log = section.querySelector(".run-log");
          const cancel = section.querySelector(".run-cancel");
          const resume = section.querySelector(".run-resume");
          const curve = section.querySelector(".run-curve");
          let lastMessage = null;
          function show(run) {
            section.querySelector(".run-state").textContent = run.state;
            section.querySelector(".run-progress").value = run.progress;
            section.querySelector(".run-percent").textContent = perceptPercent(run.progress);
            section.querySelector(".run-message").textContent = run.message || "";
            section.querySelector(".run-error").textContent = run.error || "";
            if (run.message && run.message !== lastMessage) {
              const item = document.createElement("li");
              item.textContent = run.message;
              log.appendChild(item);
              lastMessage = run.message;
            }
            if (run.modelId !== undefined && run.modelId !== null) {
              const paragraph = section.querySelector(".run-model");
              const link = document.createElement("a");
              link.href = "/models/" + run.modelId;
              link.textContent = "Evaluation and predictions of model #" + run.modelId;
              paragraph.replaceChildren(link);
            }
            cancel.classList.toggle("hidden", finalStates.includes(run.state));
            resume.classList.toggle("hidden", run.state !== "interrupted");
            section.querySelector(".run-speed").textContent = perceptSpeed(run);
            perceptDrawCurve(curve, run.curve);
          }
          function follow() {
            const events = new EventSource("/api/runs/" + id + "/events");
            events.onmessage = function (event) {
              const run = JSON.parse(event.data);
              show(run);
              if (finalStates.includes(run.state)) events.close();
            };
          }
          resume.addEventListener("click", async function () {
            try { show(await perceptSend("/api/runs/" + id + "/resume", { method: "POST" })); follow(); }
            catch (error) { section.querySelector(".run-error").textContent = error.message; }
          });
          try { show(JSON.parse(section.getAttribute("data-status"))); } catch (error) { perceptDrawCurve(curve, []); }
          cancel.addEventListener("click", async function () {
            try { show(await perceptSend("/api/runs/" + id + "/cancel", { method: "POST" })); }
            catch (error) { section.querySelector(".run-error").textContent = error.message; }
          });
          if (section.getAttribute("data-final") === "true") return;
          follow();
        });

        // Model page: the confidence-threshold slider and the test images of a clicked confusion-matrix cell,
        // from the per-image predictions embedded in the page (rows [image, truth, predicted, confidence]).
        document.querySelectorAll("#test-predictions[data-predictions]").forEach(function (section) {
          const data = JSON.parse(section.getAttribute("data-predictions"));
          const slider = section.querySelector("input.threshold");
          function showThreshold() {
            const threshold = Number(slider.value);
            const kept = data.items.filter(function (item) { return item[3] >= threshold; });
            const right = kept.filter(function (item) { return item[1] === item[2]; }).length;
            section.querySelector(".threshold-value").textContent = threshold.toFixed(2);
            section.querySelector(".threshold-precision").textContent = kept.length ? perceptPercent(right / kept.length) : "–";
            section.querySelector(".threshold-recall").textContent = data.items.length ? perceptPercent(right / data.items.length) : "–";
            section.querySelector(".threshold-counted").textContent = kept.length + " of " + data.items.length;
          }
          slider.addEventListener("input", showThreshold);
          const heatmap = document.querySelector("table.heatmap");
          if (!heatmap) return;
          heatmap.querySelectorAll("tbody tr").forEach(function (row, truth) {
            row.querySelectorAll("td").forEach(function (cell, predicted) {
              cell.title = "show these test images";
              cell.addEventListener("click", function () {
                heatmap.querySelectorAll("td.selected").forEach(function (other) { other.classList.remove("selected"); });
                cell.classList.add("selected");
                const chosen = data.items.filter(function (item) { return item[1] === truth && item[2] === predicted; });
                section.querySelector(".cell-caption").textContent = chosen.length + (chosen.length === 1 ? " test image of " : " test images of ") + data.classNames[truth]
                  + " predicted as " + data.classNames[predicted] + (chosen.length > 60 ? " (the first 60 shown)" : "");
                const images = section.querySelector(".cell-images");
                images.replaceChildren();
                chosen.slice(0, 60).forEach(function (item) {
                  const image = document.createElement("img");
                  image.src = "/api/datasets/" + data.datasetId + "/images/" + item[0];
                  image.width = 64; image.height = 64;
                  image.alt = data.classNames[truth] + " predicted " + data.classNames[predicted] + " " + perceptPercent(item[3]);
                  image.title = image.alt;
                  images.appendChild(image);
                });
                section.querySelector(".cell-title").scrollIntoView({ behavior: "smooth", block: "start" });
              });
            });
          });
        });

        // Model page: predictions for the chosen images, shown in a table.
        document.querySelectorAll("form.js-predict").forEach(function (form) {
          const table = document.querySelector("table.predictions");
          form.addEventListener("submit", async function (event) {
            event.preventDefault();
            try {
              perceptStatus(form, "predicting…", false);
              const predictions = await perceptSend(form.action, { method: "POST", body: new FormData(form) });
              const rows = table.querySelector("tbody");
              rows.replaceChildren();
              predictions.forEach(function (prediction) {
                const row = document.createElement("tr");
                const name = document.createElement("td");
                name.textContent = prediction.path;
                const labels = document.createElement("td");
                labels.textContent = prediction.error ? prediction.error
                  : prediction.top.map(function (guess) { return guess.label + " " + perceptPercent(guess.probability); }).join(", ");
                if (prediction.error) labels.classList.add("error");
                row.append(name, labels);
                rows.appendChild(row);
              });
              table.classList.remove("hidden");
              perceptStatus(form, "", false);
            } catch (error) { perceptStatus(form, error.message, true); }
          });
        });
        """#
}
