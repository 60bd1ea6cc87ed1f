import PerceptCore

// Saved as its class means (C×D) and which classes had any training items.
extension NearestClassMean: ArchivableModel {
    public static let kind = "nearest-class-mean"

    public func archive() throws -> ModelArchive {
        guard !classNames.isEmpty else { throw PerceptError.invalidArgument("fit NearestClassMean before saving it") }
        var archive = ModelArchive(kind: Self.kind, classNames: classNames, inputShape: inputShape,
                                   tensors: ["means": means])
        archive.blobs["hasMean"] = hasMean.map { $0 ? 1 : 0 }
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: 1)
        let shape = archive.inputShape
        guard shape.count == 3 else { throw PerceptError.invalidData("the model's input shape \(shape) is not [H, W, C]") }
        let c = archive.classNames.count
        let means = try archive.tensor("means", shape: [c, shape.reduce(1, *)])
        let hasMean = try archive.blob("hasMean")
        guard hasMean.count == c else { throw PerceptError.invalidData("the model's class flags do not match its \(c) classes") }
        self.init(classNames: archive.classNames, means: means, hasMean: hasMean.map { $0 != 0 }, inputShape: shape)
    }
}
