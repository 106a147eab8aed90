"""The paper's torch experiments (Tables 1-2, Figures 2-8) as empirical cross-checks.

torch is imported lazily inside the experiments, so ``import numerics`` is cheap.
"""

from ._ensemble import EnsembleResult, train_chain_ensemble, train_conv_ensemble
from ._experiment import (
    EXPERIMENT_MODULES,
    Experiment,
    ExperimentError,
    RunConfig,
    check_device,
    check_seed,
    get_experiment,
    list_experiments,
    parse_seeds,
    print_result,
    readings_of,
    run_experiment,
)
from ._linalg import end_to_end_matrix
from ._store import StoreError, check_out_folder, folder_lock
from .report import write_report

__all__ = [
    "EXPERIMENT_MODULES",
    "EnsembleResult",
    "Experiment",
    "ExperimentError",
    "RunConfig",
    "StoreError",
    "check_device",
    "check_out_folder",
    "check_seed",
    "end_to_end_matrix",
    "folder_lock",
    "get_experiment",
    "list_experiments",
    "parse_seeds",
    "print_result",
    "readings_of",
    "run_experiment",
    "train_chain_ensemble",
    "train_conv_ensemble",
    "write_report",
]
