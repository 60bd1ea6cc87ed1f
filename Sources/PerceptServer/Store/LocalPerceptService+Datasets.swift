import Foundation
import GRDB
import Percept
import PerceptCore
import PerceptData

/// A ready dataset's split plan and its images (thumbnails), read from its pack.
extension LocalPerceptService {
    public func setSplitPlan(datasetId: Int64, plan: SplitPlan) async throws -> DatasetStatus {
        let plan = try plan.checked()
        let row = try await readyDataset(datasetId)
        let pack = try loadPack(row)
        // Images that now fall in two splits leak (and ones that no longer do stop leaking): that warning is redone.
        let (counts, leakage) = try await Self.offCooperativePool {
            let assigned = try plan.apply(to: pack)
            return (SplitPlan.counts(assigned), DatasetInspection.leakageWarning(in: assigned))
        }
        return try await database.write { db in
            guard var current = try DatasetRecord.fetchOne(db, key: datasetId) else {
                throw ServiceError.notFound("there is no dataset \(datasetId)")
            }
            current.splitPlan = plan
            current.splitCounts = counts
            current.warnings.removeAll { $0.kind == "leakage" }
            if let leakage { current.warnings.append(DatasetStatus.Warning(kind: leakage.kind, message: leakage.message)) }
            try current.update(db)
            return current.status
        }
    }

    public func thumbnails(datasetId: Int64, perLabel: Int) async throws -> [ThumbnailGroup] {
        let pack = try loadPack(try await readyDataset(datasetId))
        var indices = [[Int]](repeating: [], count: pack.classNames.count)
        for (index, label) in pack.labels.enumerated() where Int(label) < indices.count && indices[Int(label)].count < perLabel {
            indices[Int(label)].append(index)
        }
        return pack.classNames.indices.map { ThumbnailGroup(label: pack.classNames[$0], indices: indices[$0]) }
    }

    public func datasetImagePNG(datasetId: Int64, index: Int) async throws -> [UInt8] {
        let pack = try loadPack(try await readyDataset(datasetId))
        guard (0..<pack.count).contains(index) else {
            throw ServiceError.notFound("dataset \(datasetId) has no image \(index) (it has \(pack.count))")
        }
        guard pack.channels == 3 else {
            throw ServiceError.conflict("dataset \(datasetId) stores \(pack.channels)-channel images, which have no PNG view here")
        }
        return try pack.image(at: index).pngData()
    }

    func readyDataset(_ id: Int64) async throws -> DatasetRecord {
        guard let row = try await database.read({ try DatasetRecord.fetchOne($0, key: id) }) else {
            throw ServiceError.notFound("there is no dataset \(id)")
        }
        guard row.state == .ready, row.packFile != nil else {
            throw ServiceError.conflict("dataset '\(row.name)' is \(row.state.rawValue), not ready")
        }
        return row
    }

    /// The dataset's pack as imported (its own split marks, unassigned ones left so), from the cache.
    func loadPack(_ row: DatasetRecord) throws -> Dataset {
        guard let packFile = row.packFile else { throw ServiceError.conflict("dataset '\(row.name)' has no images yet") }
        let path = directory.pack(named: packFile).path
        do {
            return try packs.dataset(at: path)
        } catch {
            throw ServiceError.conflict("the images of dataset '\(row.name)' cannot be read: "
                + ClientMessage.describing(error, hiding: [path: packFile]))
        }
    }
}

/// The most recently read packs, so a page of thumbnails reads its pack once. Packs never change
/// after their import, so a cached one is never stale.
final class PackCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [(path: String, dataset: Dataset)] = []
    static let capacity = 2

    func dataset(at path: String) throws -> Dataset {
        if let hit = lock.withLock({ loaded.first { $0.path == path } }) { return hit.dataset }
        let dataset = try PackFile.load(path)
        lock.withLock {
            loaded.removeAll { $0.path == path }
            loaded.insert((path, dataset), at: 0)
            if loaded.count > Self.capacity { loaded.removeLast(loaded.count - Self.capacity) }
        }
        return dataset
    }
}
