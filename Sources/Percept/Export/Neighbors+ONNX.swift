import PerceptModels

// The neighbour families have no weights to export: they say so, and `percept export` lists the
// families that do export.

extension KNearestNeighbors: ONNXExportRefusing {
    public static let onnxRefusal = "it keeps its training images rather than weights"
}

extension NearestNeighbor: ONNXExportRefusing {
    public static let onnxRefusal = KNearestNeighbors.onnxRefusal
}

extension NearestClassMean: ONNXExportRefusing {
    public static let onnxRefusal = "it compares images with its class means by distance rather than weighting them"
}
