// `import Percept` gives the whole toolkit: the stages of the data's journey (decode, dataset,
// preprocessing, models, network, evaluation, reports) and the workflow on top of them that the CLI also uses
// — load any saved model, train a model family from a recipe, predict image files.
@_exported import PerceptCore
@_exported import PerceptData
@_exported import PerceptDistributed
@_exported import PerceptEvaluation
@_exported import PerceptImage
@_exported import PerceptModelKit
@_exported import PerceptModels
@_exported import PerceptNetwork
@_exported import PerceptONNX
@_exported import PerceptPreprocessing
@_exported import PerceptReports
