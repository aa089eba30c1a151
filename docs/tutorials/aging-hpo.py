"""Aging evolution on an ordinary hyperparameter search: an SVM on scikit-learn's digits.

    python docs/tutorials/aging-hpo.py          # 60 trials per sampler
    python docs/tutorials/aging-hpo.py --tiny   # 6 trials on 300 images (the test suite)
"""

import argparse

import optuna
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

from nasga.samplers import AgingEvolutionSampler

args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
args.add_argument("--tiny", action="store_true", help="a few trials on a few images: seconds")
tiny = args.parse_args().tiny
optuna.logging.set_verbosity(optuna.logging.WARNING)
x, y = load_digits(return_X_y=True)
x, y = (x[:300], y[:300]) if tiny else (x, y)
n_trials = 6 if tiny else 60


def objective(trial: optuna.Trial) -> float:
    """3-fold cross-validated accuracy of an SVM; any Optuna search space works."""
    kernel = trial.suggest_categorical("kernel", ["rbf", "poly", "sigmoid"])
    c = trial.suggest_float("C", 1e-3, 1e3, log=True)
    gamma = trial.suggest_float("gamma", 1e-5, 1e-1, log=True)
    return cross_val_score(SVC(kernel=kernel, C=c, gamma=gamma), x, y, cv=3).mean()


samplers = {
    # Real et al. 2019: 10 random trials, then each trial mutates one parameter of the best of
    # 3 drawn from the 10 youngest.
    "aging": AgingEvolutionSampler(population=10, sample_size=3, seed=0),
    "random": optuna.samplers.RandomSampler(seed=0),  # the baseline
}
for name, sampler in samplers.items():
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    best = study.best_trial
    print(f"{name:>6}: best accuracy {best.value:.4f} at trial {best.number:2d}: "
          + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in best.params.items()))
