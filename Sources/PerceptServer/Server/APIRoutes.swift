import Foundation
import Hummingbird
import Percept

/// The JSON API (documented in the README): thin routes that read the request, call the service
/// and answer its documents; every failure becomes `{"error"}` in `JSONErrorMiddleware`.
struct APIRoutes: Sendable {
    let app: PerceptWebApp
    var service: any PerceptService { app.service }
    /// JSON request bodies (a run's options) are small; uploads go through `UploadReceiver`.
    static let maxJSONBytes = 1 << 20
    /// How many images of each label the dataset page shows.
    static let thumbnailsPerLabel = 8

    func add(to router: Router<BasicRequestContext>) {
        let api = router.group("api")
        api.post("datasets") { request, _ in try await createDataset(request) }
        api.get("datasets") { _, _ in try APIResponses.json(try await service.datasets()) }
        api.get("datasets/{id}") { _, context in
            try APIResponses.json(try await service.dataset(try Self.id(context, "dataset")))
        }
        api.post("datasets/{id}/runs") { request, context in
            let datasetId = try Self.id(context, "dataset")
            var request = request
            let body = try await request.collectBody(upTo: Self.maxJSONBytes)
            let run = try JSONDecoder().decode(RunRequest.self, from: body)
            let id = try await service.startRun(datasetId: datasetId, model: run.model, options: run.optionStrings)
            return try APIResponses.json(CreatedDocument(id: id), status: .created)
        }
        api.get("runs") { _, _ in try APIResponses.json(try await service.runs()) }
        api.get("runs/{id}") { _, context in try APIResponses.json(try await service.run(try Self.id(context, "run"))) }
        api.post("runs/{id}/cancel") { _, context in
            let id = try Self.id(context, "run")
            try await service.cancelRun(id)
            return try APIResponses.json(try await service.run(id))
        }
        api.get("runs/{id}/events") { _, context in
            try await RunEvents(service: service, interval: app.eventPollInterval).stream(runId: try Self.id(context, "run"))
        }
        api.get("models/{id}/evaluation") { _, context in
            let evaluation = try await service.evaluation(modelId: try Self.id(context, "model"))
            return try APIResponses.json(EvaluationDocument(split: "test", evaluation: evaluation, files: []))
        }
        api.post("models/{id}/predict") { request, context in try await predict(request, modelId: try Self.id(context, "model")) }
        api.get("models/{id}/file") { _, context in
            let id = try Self.id(context, "model")
            let url = try await service.modelFile(id)
            let body = try await FileIO().loadFile(path: url.path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream",
                                                   .contentDisposition: "attachment; filename=\"model-\(id).percept\""],
                            body: body)
        }
        api.get("models/{id}/onnx") { _, context in try await exportONNX(modelId: try Self.id(context, "model")) }
        api.post("datasets/{id}/split") { request, context in
            let datasetId = try Self.id(context, "dataset")
            var request = request
            let body = try await request.collectBody(upTo: Self.maxJSONBytes)
            let plan = try JSONDecoder().decode(SplitPlan.self, from: body)
            return try APIResponses.json(try await service.setSplitPlan(datasetId: datasetId, plan: plan))
        }
        api.get("datasets/{id}/thumbnails") { request, context in
            let perLabel = request.uri.queryParameters.get("perLabel").map { Int($0) } ?? Self.thumbnailsPerLabel
            guard let perLabel, (1...100).contains(perLabel) else {
                throw ServiceError.badRequest("perLabel must be a whole number from 1 to 100")
            }
            return try APIResponses.json(try await service.thumbnails(datasetId: try Self.id(context, "dataset"), perLabel: perLabel))
        }
        api.get("datasets/{id}/images/{index}") { _, context in
            let datasetId = try Self.id(context, "dataset")
            let text = context.parameters.get("index") ?? ""
            // A number only: images are named by their place in the dataset's pack, never by a path.
            guard let index = Int(text), index >= 0 else { throw ServiceError.notFound("dataset \(datasetId) has no image '\(text)'") }
            let png = try await service.datasetImagePNG(datasetId: datasetId, index: index)
            return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=3600"],
                            body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        api.post("runs/{id}/resume") { _, context in
            let id = try Self.id(context, "run")
            try await service.resumeRun(id)
            return try APIResponses.json(try await service.run(id))
        }
        api.get("models/{id}/predictions") { _, context in
            try APIResponses.json(try await service.testPredictions(modelId: try Self.id(context, "model")))
        }
        api.get("models/{id}/report.html") { _, context in
            let id = try Self.id(context, "model")
            let html = try await service.reportHTML(modelId: id)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"model-\(id)-report.html\""],
                            body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        api.get("datasets/{id}/labels.csv") { _, context in
            let dataset = try await service.dataset(try Self.id(context, "dataset"))
            let csv = try LabelTable.csv(dataset.classes)
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"labels-\(dataset.id).csv\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: Data(csv.utf8))))
        }
    }

    /// `GET /api/models/{id}/onnx`: the model as `percept export` writes it; 409 for a family without an
    /// ONNX form (k-NN), with the exporter's reason.
    private func exportONNX(modelId id: Int64) async throws -> Response {
        let model = try await service.modelFile(id)
        let onnx = FileManager.default.temporaryDirectory.appendingPathComponent("percept-export-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: onnx) }
        do {
            try ONNXExport.export(modelAt: model.path, to: onnx.path)
        } catch let error as PerceptError where error.kind == .unsupported {
            throw ServiceError.conflict(error.reason)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream",
                                               .contentDisposition: "attachment; filename=\"model-\(id).onnx\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: try Data(contentsOf: onnx))))
    }

    /// `POST /api/datasets`, an optional `name` and one of: one `file` (an archive); several image
    /// `file`s each with a label (a `label` field per file, in order, or file names `label/xxx.jpg`);
    /// a `folder` (the absolute path of a folder on the server machine).
    private func createDataset(_ request: Request) async throws -> Response {
        let form = try await UploadReceiver.receive(request, maxBytes: app.maxUploadBytes, directory: app.uploadDirectory)
        let files = form.files.filter { $0.field == "file" }
        let given = form.fields["name"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if let folder = form.fields["folder"], !folder.trimmingCharacters(in: .whitespaces).isEmpty {
            form.removeFiles()
            guard form.files.isEmpty else { throw ServiceError.badRequest("send either a folder or files, not both") }
            // A folder path names this machine's files: only its own user (a loopback server) may ask for one.
            guard app.isLoopback else {
                throw HTTPError(.forbidden, message: "importing a server folder is only offered when the server listens on "
                    + "loopback (--host 127.0.0.1); upload the images instead")
            }
            let id = try await service.createDataset(name: String(given.prefix(200)), folder: folder)
            return try APIResponses.json(CreatedDocument(id: id), status: .created)
        }
        let labels = form.fieldValues["label"] ?? []
        // One file without a label is an archive; several files (or any label) are images to label.
        if files.count > 1 || !labels.isEmpty {
            return try await createDataset(labelledFiles: files, labels: labels, form: form, name: given)
        }
        guard files.count == 1, let file = files.first, form.files.count == 1 else {
            form.removeFiles()
            throw ServiceError.badRequest("send one archive in the form field 'file', several images each with a 'label', "
                + "or a 'folder' (got \(form.files.count) files)")
        }
        let name = given.isEmpty ? Self.stem(of: file.displayName) : String(given.prefix(200))
        do {
            // The service owns the file from here (it may move it into its store).
            let id = try await service.createDataset(name: name, upload: file.url)
            return try APIResponses.json(CreatedDocument(id: id), status: .created)
        } catch {
            form.removeFiles()
            throw error
        }
    }

    /// Images dropped one by one: the k-th `label` field labels the k-th file; without labels, each
    /// file's own folder (`cat/1.jpg`) does.
    private func createDataset(labelledFiles files: [UploadedFile], labels: [String], form: ReceivedForm,
                               name given: String) async throws -> Response {
        do {
            guard !files.isEmpty, files.count == form.files.count else {
                throw ServiceError.badRequest("send the images in the form field 'file'")
            }
            guard labels.isEmpty || labels.count == files.count else {
                throw ServiceError.badRequest("send one 'label' per file: got \(labels.count) labels for \(files.count) files")
            }
            let labelled = try files.enumerated().map { position, file -> LabelledUpload in
                guard let label = labels.isEmpty ? Self.folderLabel(of: file.clientName) : labels[position] else {
                    throw ServiceError.badRequest("'\(file.displayName)' has no label: send a 'label' per file or name "
                        + "the files label/image.jpg")
                }
                return LabelledUpload(label: label, displayName: file.displayName, url: file.url)
            }
            let name = given.isEmpty ? "dropped images" : String(given.prefix(200))
            // The service owns the files from here (it moves them into its store).
            let id = try await service.createDataset(name: name, labelledFiles: labelled)
            return try APIResponses.json(CreatedDocument(id: id), status: .created)
        } catch {
            form.removeFiles()
            throw error
        }
    }

    /// `cat` for a client file name `cat/1.jpg` (or `photos/cat/1.jpg`: the folder holding the file); nil without a folder.
    static func folderLabel(of clientName: String) -> String? {
        let components = clientName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).map(String.init)
        guard components.count >= 2 else { return nil }
        let folder = components[components.count - 2].trimmingCharacters(in: .whitespaces)
        return folder.isEmpty ? nil : folder
    }

    /// `POST /api/models/{id}/predict`: one or more `file` parts; `?top=K` (default 5). Or one photo as
    /// the whole body (`Content-Type: image/…` or `application/octet-stream`, named by `?name=`), as
    /// scripts send it with `curl --data-binary @cat.jpg`: no multipart to parse.
    private func predict(_ request: Request, modelId: Int64) async throws -> Response {
        let top = request.uri.queryParameters.get("top").map { Int($0) } ?? 5
        guard let top, (1...1000).contains(top) else { throw ServiceError.badRequest("top must be a whole number from 1 to 1000") }
        // Photos to predict stay in memory (never written to disk), so their size is bounded apart.
        let limit = min(app.maxUploadBytes, PerceptWebApp.maxPredictBytes)
        let images: [ArchiveEntry]
        let type = request.headers[.contentType]?.lowercased() ?? ""
        if type.hasPrefix("image/") || type.hasPrefix("application/octet-stream") {
            let name = UploadNames.displayName(request.uri.queryParameters.get("name").map { String($0) } ?? "photo")
            images = [ArchiveEntry(path: name, data: try await UploadReceiver.receiveBody(request, maxBytes: limit))]
        } else {
            let form = try await UploadReceiver.receive(request, maxBytes: limit, directory: app.uploadDirectory,
                                                        filesInMemory: true)
            images = form.images.filter { $0.field == "file" }.map(\.image)
            guard !images.isEmpty else { throw ServiceError.badRequest("send one or more images in the form field 'file'") }
        }
        // Answers carry the client's file names (reduced to their last component), never a server path.
        return try APIResponses.json(try await service.predict(modelId: modelId, images: images, top: top))
    }

    /// The numeric `{id}` of the path; anything else names nothing (404).
    static func id(_ context: BasicRequestContext, _ kind: String) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text) else { throw ServiceError.notFound("there is no \(kind) '\(text)'") }
        return id
    }

    /// `photos.tar.gz` → `photos`: a dataset's default name.
    static func stem(of name: String) -> String {
        var stem = name
        for suffix in [".tar.gz", ".tgz", ".zip", ".tar"] where stem.lowercased().hasSuffix(suffix) {
            stem = String(stem.dropLast(suffix.count))
            break
        }
        return stem.isEmpty ? "dataset" : stem
    }
}

/// The body of `POST /api/datasets/{id}/runs`: `{"model": "knn", "options": {"k": 5}}`.
struct RunRequest: Decodable {
    /// An option's value as JSON gives it: a string, a number or a boolean (a flag), passed on as text.
    struct OptionValue: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) { text = string }
            else if let whole = try? container.decode(Int.self) { text = String(whole) }
            else if let number = try? container.decode(Double.self) { text = String(number) }
            else if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false" }
            else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                    debugDescription: "an option's value must be a string, a number or true/false"))
            }
        }
    }

    var model: String
    var options: [String: OptionValue]?

    var optionStrings: [String: String] { (options ?? [:]).mapValues(\.text) }
}

/// What `GET /api/models/{id}/evaluation` answers: the document `percept evaluate --json` prints.
struct EvaluationDocument: Codable {
    var split: String
    var evaluation: Evaluation
    var files: [String]
}
