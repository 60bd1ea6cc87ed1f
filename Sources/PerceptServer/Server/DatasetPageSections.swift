import Foundation
import Percept

/// The parts of a ready dataset's page beyond the label chart: the original images' sizes and
/// colour modes, the split with its editable percentages, and a few images of every label.
enum DatasetPageSections {
    static func imageStatistics(_ statistics: ImageStatistics?) -> String {
        guard let statistics, !statistics.sizeRanges.isEmpty else { return "" }
        func rows(_ counts: [NamedCount]) -> [[String]] { counts.map { [PageLayout.escaped($0.name), String($0.count)] } }
        return """
            <h2>Sizes and colour modes</h2>
            <div class="side-by-side">
            \(PageLayout.table(headers: ["longer side", "images"], rows: rows(statistics.sizeRanges), empty: ""))
            \(PageLayout.table(headers: ["colour mode", "images"], rows: rows(statistics.colourModes), empty: ""))
            \(PageLayout.table(headers: ["most common sizes", "images"], rows: rows(statistics.commonSizes), empty: ""))
            </div>
            <p class="muted">Of the original files, before they were fitted for storage; each run fits them to its model's input.</p>
            """
    }

    /// The split as it stands and a form to change its percentages and seed (sent as JSON by the page's script).
    static func split(datasetId: Int64, plan: SplitPlan, counts: [String: Int], imageCount: Int,
                      statistics: ImageStatistics?) -> String {
        let rows = ["train", "validation", "test"].map { name in
            [PageLayout.escaped(name), String(counts[name] ?? 0),
             PageLayout.percent(imageCount > 0 ? Double(counts[name] ?? 0) / Double(imageCount) : nil)]
        }
        let sourceAssigned = statistics?.sourceAssignedImages ?? 0
        let note = sourceAssigned == 0
            ? "Every image is divided by the percentages below: stratified by label, shuffled with the seed."
            : "\(sourceAssigned) of \(imageCount) images keep the split their source gave them (split folders or a CSV column); "
                + "the percentages below divide the other \(imageCount - sourceAssigned), stratified by label, shuffled with the seed."
        func field(_ name: String, _ value: UInt64, _ range: String) -> String {
            "<label><span>\(name)</span> <input type=\"number\" name=\"\(name)\" value=\"\(value)\" \(range) required></label>"
        }
        return """
            <h2>Split</h2>
            <div id="split-counts">\(PageLayout.table(headers: ["split", "images", "share"], rows: rows, empty: ""))</div>
            <p class="muted">\(PageLayout.escaped(note)) Runs started after a change train on the new split; runs already made keep theirs.</p>
            <form id="split-form" class="js-split" action="/api/datasets/\(datasetId)/split" method="post">
            \(field("train", UInt64(plan.train), "min=\"1\" max=\"98\" step=\"1\""))
            \(field("validation", UInt64(plan.validation), "min=\"1\" max=\"98\" step=\"1\""))
            \(field("test", UInt64(plan.test), "min=\"1\" max=\"98\" step=\"1\""))
            \(field("seed", plan.seed, "min=\"0\" step=\"1\""))
            <button type="submit">Change the split</button>
            <p class="form-status" role="status"></p>
            </form>
            """
    }

    /// A row of images per label, served by number from the dataset's pack.
    static func thumbnails(datasetId: Int64, groups: [ThumbnailGroup]) -> String {
        guard groups.contains(where: { !$0.indices.isEmpty }) else { return "" }
        let rows = groups.map { group in
            "<div class=\"thumb-row\"><h3>\(PageLayout.escaped(group.label))</h3>"
                + group.indices.map { index in
                    "<img src=\"/api/datasets/\(datasetId)/images/\(index)\" alt=\"\(PageLayout.escaped(group.label)) #\(index)\" "
                        + "width=\"64\" height=\"64\" loading=\"lazy\">"
                }.joined() + "</div>"
        }.joined(separator: "\n")
        return "<h2>Images per label</h2>\n<div id=\"thumbnails\" class=\"thumbnails\">\n\(rows)\n</div>"
    }
}
