// The models' public API speaks in the preprocessing stage's types (a linear classifier is built
// with `ImageFeatures` and a `Preprocessing`), so whoever imports the models can name them.
@_exported import PerceptPreprocessing
