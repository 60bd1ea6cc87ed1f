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

        // Home: upload an archive with a progress bar (XMLHttpRequest reports upload progress, fetch does not).
        document.querySelectorAll("form.js-upload").forEach(function (form) {
          form.addEventListener("submit", function (event) {
            event.preventDefault();
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
            perceptStatus(form, "uploading…", false);
            request.send(new FormData(form));
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

        // Run page: live progress from the server-sent events until the run ends; a reload reconnects.
        document.querySelectorAll("#run[data-run]").forEach(function (section) {
          const id = section.getAttribute("data-run");
          const finalStates = ["succeeded", "failed", "cancelled", "interrupted"];
          const log = section.querySelector(".run-log");
          const cancel = section.querySelector(".run-cancel");
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
          }
          cancel.addEventListener("click", async function () {
            try { show(await perceptSend("/api/runs/" + id + "/cancel", { method: "POST" })); }
            catch (error) { section.querySelector(".run-error").textContent = error.message; }
          });
          if (section.getAttribute("data-final") === "true") return;
          const events = new EventSource("/api/runs/" + id + "/events");
          events.onmessage = function (event) {
            const run = JSON.parse(event.data);
            show(run);
            if (finalStates.includes(run.state)) events.close();
          };
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
