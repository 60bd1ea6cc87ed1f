import Foundation
import Hummingbird
import Percept

/// The server-rendered pages of the AutoML flow: home (upload, lists), a dataset (label chart,
/// warnings, problems, a run form from the registry), a run (live progress) and a model
/// (evaluation, predict). Their state comes from the service on every load, so a reload is safe.
struct PageRoutes: Sendable {
    let service: any PerceptService
    /// Whether the home page offers importing a folder on the server (only on loopback, as the API).
    var offersFolderImport = true
    /// AutoML warns below 100 images per label.
    static let fewImages = 100

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try await home() }
        router.get("datasets/{id}") { _, context in try await datasetPage(try APIRoutes.id(context, "dataset")) }
        router.get("runs/{id}") { _, context in try await runPage(try APIRoutes.id(context, "run")) }
        router.get("models/{id}") { _, context in try await modelPage(try APIRoutes.id(context, "model")) }
        router.get("assets/percept.css") { _, _ in PageLayout.asset(PageAssets.stylesheet, contentType: "text/css; charset=utf-8") }
        router.get("assets/percept.js") { _, _ in PageLayout.asset(PageAssets.script, contentType: "text/javascript; charset=utf-8") }
    }

    private func home() async throws -> Response {
        let datasets = try await service.datasets()
        let runs = try await service.runs()
        let names = Dictionary(datasets.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let datasetRows = datasets.map { dataset in
            [PageLayout.link(dataset.name, to: "/datasets/\(dataset.id)"), PageLayout.escaped(dataset.state.rawValue),
             String(dataset.imageCount), String(dataset.classes.count)]
        }
        let body = """
            <h2>New dataset</h2>
            <p>An archive (.zip or .tar.gz) with one folder per label, split folders, or an AutoML CSV.</p>
            <form id="upload-form" class="js-upload" action="/api/datasets" method="post" enctype="multipart/form-data">
            <label>Name <input type="text" name="name" maxlength="200" placeholder="from the file name"></label>
            <label>Archive <input type="file" name="file" accept=".zip,.tar.gz,.tgz,.tar" required></label>
            <button type="submit">Upload</button>
            <progress class="hidden" max="1"></progress>
            <p class="form-status" role="status"></p>
            </form>
            <h2>…or drop images and label them</h2>
            <form id="drop-form" class="js-drop" action="/api/datasets" method="post" enctype="multipart/form-data">
            <label>Name <input type="text" name="name" maxlength="200" placeholder="dropped images"></label>
            <div class="drop-zone" tabindex="0">Drop images here (a folder per label keeps its folder names as labels),
            or <label class="inline">choose them <input type="file" class="drop-input" accept="image/*" multiple></label></div>
            <label>Label for the next images <input type="text" class="drop-default-label" maxlength="100" placeholder="e.g. cat"></label>
            <table class="drop-list hidden"><thead><tr><th>image</th><th>label</th></tr></thead><tbody></tbody></table>
            <button type="submit">Create the dataset</button>
            <progress class="hidden" max="1"></progress>
            <p class="form-status" role="status"></p>
            </form>
            \(offersFolderImport ? Self.folderForm : "")
            <h2>Datasets</h2>
            \(PageLayout.table(headers: ["name", "state", "images", "labels"], rows: datasetRows, empty: "No datasets yet."))
            <h2>Training runs</h2>
            \(PageLayout.table(headers: ["run", "dataset", "model", "state", "progress", "result"],
                               rows: runs.map { runRow($0, datasetName: names[$0.datasetId]) }, empty: "No runs yet."))
            """
        return PageLayout.page(title: "Percept", body: body)
    }

    /// Importing a folder where it lies on the server machine (a local app's user owns it).
    static let folderForm = """
            <h2>…or import a folder on this machine</h2>
            <form id="folder-form" class="js-upload" action="/api/datasets" method="post" enctype="multipart/form-data">
            <label>Name <input type="text" name="name" maxlength="200" placeholder="from the folder name"></label>
            <label>Folder <input type="text" name="folder" size="50" placeholder="/home/me/photos" required></label>
            <small>A folder per label, split folders or an AutoML CSV, as for an archive; the server reads it where it is.</small>
            <button type="submit">Import</button>
            <progress class="hidden" max="1"></progress>
            <p class="form-status" role="status"></p>
            </form>
            """

    private func runRow(_ run: RunStatus, datasetName: String?) -> [String] {
        [PageLayout.link("#\(run.id)", to: "/runs/\(run.id)"),
         PageLayout.link(datasetName ?? "#\(run.datasetId)", to: "/datasets/\(run.datasetId)"),
         PageLayout.escaped(run.model), PageLayout.escaped(run.state.rawValue), PageLayout.percent(run.progress),
         run.modelId.map { PageLayout.link("model #\($0)", to: "/models/\($0)") } ?? PageLayout.escaped(run.error ?? "")]
    }

    private func datasetPage(_ id: Int64) async throws -> Response {
        let dataset = try await service.dataset(id)
        var sections = HTMLDocument(title: dataset.name)
        sections.facts([("state", dataset.state.rawValue), ("images", String(dataset.imageCount)),
                        ("labels", String(dataset.classes.count))])
        if let error = dataset.error { sections.paragraph("The import failed: \(error)", className: "error") }
        if !dataset.classes.isEmpty {
            let chart = BarChart(title: "Images per label", bars: dataset.classes.map { ($0.name, $0.count) },
                                 warnBelow: Self.fewImages)
            sections.svg(chart.svg(), caption: "Labels with fewer than \(Self.fewImages) images are drawn in orange.")
        }
        sections.list(dataset.warnings.map { "\($0.kind): \($0.message)" }, className: "warnings")
        if !dataset.problems.isEmpty {
            sections.table(headers: ["file", "why it was left out"], rows: dataset.problems.map { [$0.path, $0.reason] },
                           caption: "\(dataset.problems.count) files could not be used")
        }
        let importing = dataset.state == .importing
            ? "<p data-watch-dataset=\"\(id)\">Importing… <progress max=\"1\" value=\"\(dataset.progress)\"></progress></p>" : ""
        let form = dataset.state == .ready ? RunForm.html(datasetId: id) : ""
        let download = dataset.classes.isEmpty ? ""
            : "<p><a href=\"/api/datasets/\(id)/labels.csv\" download>Label statistics (.csv)</a></p>"
        var details = DatasetPageSections.imageStatistics(dataset.imageStatistics)
        if dataset.state == .ready {
            details += DatasetPageSections.split(datasetId: id, plan: dataset.splitPlan ?? .standard,
                                                 counts: dataset.splitCounts ?? [:], imageCount: dataset.imageCount,
                                                 statistics: dataset.imageStatistics)
            // A dataset whose images cannot be shown still has the rest of its page.
            if let groups = try? await service.thumbnails(datasetId: id, perLabel: APIRoutes.thumbnailsPerLabel) {
                details += DatasetPageSections.thumbnails(datasetId: id, groups: groups)
            }
        }
        return PageLayout.page(title: dataset.name, body: importing + sections.bodyHTML + download + details + form)
    }

    private func runPage(_ id: Int64) async throws -> Response {
        let run = try await service.run(id)
        let dataset = try? await service.dataset(run.datasetId)
        let final = RunEvents.finalStates.contains(run.state)
        let modelLink = run.modelId.map { PageLayout.link("Evaluation and predictions of model #\($0)", to: "/models/\($0)") } ?? ""
        let resumable = run.state == .interrupted
        let body = """
            <section id="run" data-run="\(id)" data-final="\(final)" data-status="\(PageLayout.escaped(RunEvents.compactJSON(run)))">
            <dl>
            <dt>dataset</dt><dd>\(PageLayout.link(dataset?.name ?? "#\(run.datasetId)", to: "/datasets/\(run.datasetId)"))</dd>
            <dt>model</dt><dd>\(PageLayout.escaped(run.model)) (\(PageLayout.escaped(PageLayout.options(run.options))))</dd>
            <dt>state</dt><dd class="run-state">\(PageLayout.escaped(run.state.rawValue))</dd>
            <dt>progress</dt><dd><progress class="run-progress" max="1" value="\(run.progress)"></progress>
            <span class="run-percent">\(PageLayout.percent(run.progress))</span></dd>
            </dl>
            <p class="run-message">\(PageLayout.escaped(run.message ?? ""))</p>
            <p class="run-error error">\(PageLayout.escaped(run.error ?? ""))</p>
            <p class="run-model">\(modelLink)</p>
            <p class="run-speed">\(PageLayout.escaped(Self.speed(run)))</p>
            <button type="button" class="run-cancel\(final ? " hidden" : "")">Cancel</button>
            <button type="button" class="run-resume\(resumable ? "" : " hidden")"
                    title="Queue the run again; a CNN continues from its last finished epoch">Resume</button>
            <h2>Training curve</h2>
            <svg class="run-curve" width="480" height="220" viewBox="0 0 480 220" role="img"
                 aria-label="loss and validation accuracy per epoch"></svg>
            <p class="muted run-curve-note">Loss (blue, scaled to its largest value) and validation accuracy (green, 0–100%) per epoch,
            for families that train in epochs.</p>
            <h2>Progress</h2>
            <ol class="run-log"></ol>
            </section>
            """
        return PageLayout.page(title: "Run #\(id)", body: body)
    }

    /// "1234 images/s · about 12 s left" from the latest progress line, while the family reports them.
    static func speed(_ run: RunStatus) -> String {
        var parts: [String] = []
        if let rate = run.imagesPerSecond { parts.append(String(format: "%.0f images/s", rate)) }
        if let seconds = run.secondsRemaining { parts.append("about \(Int(seconds.rounded())) s left") }
        return parts.joined(separator: " · ")
    }

    private func modelPage(_ id: Int64) async throws -> Response {
        let evaluation = try await service.evaluation(modelId: id)
        var sections = HTMLDocument(title: "Model #\(id)")
        sections.facts([("test images", String(evaluation.images)), ("accuracy", PageLayout.percent(evaluation.accuracy)),
                        ("top-\(evaluation.topK) accuracy", PageLayout.percent(evaluation.topKAccuracy))])
        sections.table(headers: ["label", "precision", "recall", "F1", "images"],
                       rows: evaluation.report.classes.map {
                           [$0.name, PageLayout.percent($0.precision), PageLayout.percent($0.recall), PageLayout.percent($0.f1),
                            String($0.support)]
                       }, caption: "Per label")
        let confusion = evaluation.confusion
        sections.heatmapTable(rowLabels: confusion.classNames, columnLabels: confusion.classNames, values: confusion.counts,
                              corner: "true \\ predicted", caption: "Confusion matrix")
        if !evaluation.mistakes.isEmpty {
            sections.table(headers: ["image", "true label", "predicted", "confidence"],
                           rows: evaluation.mistakes.prefix(10).map {
                               [UploadNames.displayName($0.source), $0.truth, $0.predicted, PageLayout.percent($0.probability)]
                           }, caption: "Most confident mistakes")
        }
        // The per-image views need the test images' predictions; a model whose dataset is gone still has its evaluation.
        var perImage = ""
        if let predictions = try? await service.testPredictions(modelId: id) {
            perImage = ModelPageSections.threshold(predictions) + ModelPageSections.precisionRecallCurves(predictions)
        }
        let body = """
            <p><a href="/api/models/\(id)/file" download>Download the model (.percept)</a> ·
            <a href="/api/models/\(id)/onnx" download>as ONNX</a> ·
            <a href="/api/models/\(id)/report.html" download>the full report (.html)</a></p>
            \(sections.bodyHTML)
            \(perImage)
            <h2>Predict</h2>
            <form id="predict-form" class="js-predict" data-model="\(id)" action="/api/models/\(id)/predict" method="post"
                  enctype="multipart/form-data">
            <label>Images <input type="file" name="file" accept="image/*" multiple required></label>
            <button type="submit">Predict</button>
            <p class="form-status" role="status"></p>
            </form>
            <table class="predictions hidden"><thead><tr><th>image</th><th>labels</th></tr></thead><tbody></tbody></table>
            """
        return PageLayout.page(title: "Model #\(id)", body: body)
    }
}
