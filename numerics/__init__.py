"""The paper's torch experiments (Tables 1-2, Figures 2-8) as empirical cross-checks.

Each experiment declares its rows (:class:`Experiment`); the ``verify`` program runs them.
torch is imported lazily inside the experiments, so ``import numerics`` is cheap.
"""

from ._data import check_images
from ._experiment import (
    EXPERIMENT_MODULES,
    MAX_SEEDS,
    Experiment,
    ExperimentError,
    Output,
    Row,
    RunConfig,
    get_experiment,
    list_experiments,
    readings_of,
)
from ._linalg import end_to_end_matrix
from ._metrics import LAND_NORM, landed_on
from ._trainer import EnsembleResult, train_chain_ensemble, train_conv_ensemble
from .probe import probe, probe_report, span_angle

__all__ = [
    "EXPERIMENT_MODULES",
    "LAND_NORM",
    "MAX_SEEDS",
    "EnsembleResult",
    "Experiment",
    "ExperimentError",
    "Output",
    "Row",
    "RunConfig",
    "check_images",
    "end_to_end_matrix",
    "get_experiment",
    "landed_on",
    "list_experiments",
    "probe",
    "probe_report",
    "readings_of",
    "span_angle",
    "train_chain_ensemble",
    "train_conv_ensemble",
]
