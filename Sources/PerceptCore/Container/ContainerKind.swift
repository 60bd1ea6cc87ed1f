/// Which Percept file a container holds. Every kind shares the framing of `BinaryContainer`
/// and keeps its own magic, so a dataset pack given where a model is expected is refused by
/// name instead of being half-read.
public struct ContainerKind: Sendable, Equatable, CustomStringConvertible {
    /// The first 8 bytes of every file of this kind.
    public let magic: String
    /// What a person calls the file ("dataset pack").
    public let noun: String
    /// What to do when a file of this kind was given where another kind was expected.
    public let advice: String

    public init(magic: String, noun: String, advice: String) {
        precondition(magic.utf8.count == 8, "a container magic is 8 ASCII bytes")
        self.magic = magic
        self.noun = noun
        self.advice = advice
    }

    /// A dataset's decoded pixels, labels and splits (`.pack`).
    public static let pack = ContainerKind(magic: "PRCPTPAK", noun: "dataset pack",
                                           advice: "use it as a dataset (`percept train`, `percept evaluate`)")
    /// A fitted model of any family (`.percept`).
    public static let model = ContainerKind(magic: "PRCPTMDL", noun: "model file",
                                            advice: "pass it where a model is expected, or train one with `percept train`")
    /// A CNN training run's state at an epoch boundary (`.ckpt`).
    public static let checkpoint = ContainerKind(magic: "PRCPTCKP", noun: "training checkpoint",
                                                 advice: "resume training with it (`--checkpoint`)")

    /// Every kind Percept writes, to name a file given in the wrong place.
    public static let all: [ContainerKind] = [.pack, .model, .checkpoint]

    public var description: String { noun }
    var magicBytes: [UInt8] { Array(magic.utf8) }
}
