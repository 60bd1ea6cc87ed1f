// The README's Swift quick start, as a program a test builds and runs.
// Usage: percept-quickstart FOLDER IMAGE   (FOLDER: one subfolder of images per label)
import Foundation
import Percept
import PerceptModelKit

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: percept-quickstart FOLDER IMAGE\n".utf8))
    exit(1)
}
let (folder, photo) = (arguments[1], arguments[2])

// README-BEGIN
let loaded = try DatasetLoader.load(folder, options: ImportOptions(imageSize: ImageSize(width: 32, height: 32)))
let (splits, _) = try loaded.dataset.standardSplits(seed: 0)   // 80/10/10, stratified, as `percept train` splits
var model = KNearestNeighbors(k: 5, metric: .l1)
try model.fit(splits.train)
let evaluation = try Evaluation(model: model, on: splits.test)
print("test accuracy \(evaluation.accuracy), top-\(evaluation.topK) \(evaluation.topKAccuracy)")
print(evaluation.report.rendered())
try ModelFile.write(model, to: "quickstart.percept", resizeMode: "squash")
let saved = try SavedModel.load("quickstart.percept")             // any family, as `percept predict` loads it
for answer in try saved.predict(files: [photo], top: 3) {
    print(answer.path, answer.top.map { "\($0.label) \($0.probability)" })
}
// README-END
