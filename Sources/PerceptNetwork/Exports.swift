// The CNN's public API speaks in the preprocessing stage's types (`Normalization`,
// `Augmentation`, `ImageTransform`), so whoever imports the network engine can name them.
@_exported import PerceptPreprocessing
