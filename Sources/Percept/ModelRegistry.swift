import Dispatch
import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptEvaluation
import PerceptModelKit

/// Every model family Percept knows, in the order menus and `--help` list them. `percept train`,
/// `tune`, `evaluate`, `report`, `demo`, `SavedModel.load` and the web app find families here.
///
/// To add a family: write its folder (model + a `ModelFamily` type) and add one line below.
public enum ModelRegistry {
    public static let families: [any ModelFamily.Type] = [
        KNearestNeighborsFamily.self,
        NearestClassMeanFamily.self,
        SupportVectorMachineFamily.self,
        SoftmaxFamily.self,
        TwoLayerNetFamily.self,
        ConvNetFamily.self,
        TransferFamily.self,
    ]

    public static var names: [String] { families.map { $0.name } }

    /// The family called `name` (`--model NAME`); the error lists the known ones.
    public static func family(named name: String) throws -> any ModelFamily.Type {
        guard let family = families.first(where: { $0.name == name.lowercased() }) else {
            throw PerceptError.invalidArgument("there is no model family '\(name)'; choose one of \(names.joined(separator: ", "))")
        }
        return family
    }

    /// The model type stored under `kind` in model files, with the family that saves it.
    public static func modelType(kind: String) -> (family: any ModelFamily.Type, type: any ArchivableModel.Type)? {
        for family in families {
            if let type = family.modelTypes.first(where: { $0.kind == kind }) { return (family, type) }
        }
        return nil
    }

    /// Every kind of model file this build reads.
    public static var kinds: [String] {
        var seen: [String] = []
        for family in families { for type in family.modelTypes where !seen.contains(type.kind) { seen.append(type.kind) } }
        return seen
    }
}

/// A fitted model and how it did on the validation images.
public struct TrainedModel: Sendable {
    public var model: any ArchivableModel
    /// Accuracy on the validation split; nil when there was none.
    public var validationAccuracy: Double?
    public var seconds: Double
    /// The run's curves, for families that train by epochs.
    public var history: TrainingHistory?

    /// The history as compact JSON, as model files store it (metadata "history").
    public var historyJSON: String? {
        guard let history else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(history)).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension ModelFamily {
    /// Fits the family with `settings` on `job.train` and measures it on `job.validation`
    /// (which it never trains on): `percept train`'s core, as the web app calls it too. With several
    /// ranks (`job.communicator`) they first check that they hold the same splits.
    public static func train(_ settings: ModelSettings, _ job: TrainingJob) throws -> TrainedModel {
        let start = DispatchTime.now()
        if job.communicator.size > 1 {
            // Every rank loads and splits the data itself; training on different data would be silently wrong.
            try job.communicator.requireAgreement(on: Checksum.sha256(train: job.train, validation: job.validation),
                                                  what: "training data (load the same DATA with the same options and --seed on every rank)")
        }
        let fitted = try fit(settings, job)
        var validationAccuracy: Double?
        if let validation = job.validation, !validation.isEmpty {
            let predicted = try fitted.validationPredictions ?? fitted.model.predict(validation)
            validationAccuracy = try accuracy(predicted: predicted, truth: validation.labels)
        }
        return TrainedModel(model: fitted.model, validationAccuracy: validationAccuracy, seconds: secondsSince(start),
                            history: fitted.history)
    }

    /// Settings from `--name value` words, checked against this family's parameters.
    public static func settings(arguments: [String]) throws -> ModelSettings {
        try ModelSettings(arguments: arguments, parameters: parameters, family: name)
    }

    /// Settings from option names and values, checked against this family's parameters.
    public static func settings(_ values: [String: String] = [:]) throws -> ModelSettings {
        try ModelSettings(values, parameters: parameters, family: name)
    }
}
