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
from ._metrics import LANDING_RULE, MIN_NORM, TRAINED_RULE, honest_landing, landed_on, lands
from ._torchtrain import train_conv_ensemble
from ._trainer import EnsembleResult, train_chain_ensemble
from ._verdicts import SPAN_TOL, memorized, spectral_memorized
from .probe import probe, probe_report, span_angle

__all__ = [
    "EXPERIMENT_MODULES",
    "LANDING_RULE",
    "MAX_SEEDS",
    "MIN_NORM",
    "SPAN_TOL",
    "TRAINED_RULE",
    "EnsembleResult",
    "Experiment",
    "ExperimentError",
    "Output",
    "Row",
    "RunConfig",
    "check_images",
    "end_to_end_matrix",
    "get_experiment",
    "honest_landing",
    "landed_on",
    "lands",
    "list_experiments",
    "memorized",
    "probe",
    "probe_report",
    "readings_of",
    "span_angle",
    "spectral_memorized",
    "train_chain_ensemble",
    "train_conv_ensemble",
]
