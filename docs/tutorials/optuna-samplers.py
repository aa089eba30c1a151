"""nasga's samplers in your own Optuna study: a Genetic-CNN genome plus a learning rate.

    python docs/tutorials/optuna-samplers.py          # 60 trials, 2 threads
    python docs/tutorials/optuna-samplers.py --tiny   # 8 trials (the test suite)
"""

import argparse

import optuna

from nasga.evaluation.records import lineage
from nasga.samplers import GeneticSampler, get_strategy
from nasga.spaces import GeneticCNNSpace

args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
args.add_argument("--tiny", action="store_true", help="a few trials: seconds")
tiny = args.parse_args().tiny
optuna.logging.set_verbosity(optuna.logging.WARNING)

space = GeneticCNNSpace((3, 4, 5))
strategy = get_strategy("genetic-cnn", population=4 if tiny else 20)
sampler = GeneticSampler(space=space, strategy=strategy, seed=0)
study = optuna.create_study(sampler=sampler)  # direction: minimize (Optuna's default) or maximize


def objective(trial: optuna.Trial) -> float:
    genome = space.from_params({name: trial.suggest_int(name, d.low, d.high)
                                for name, d in space.distributions.items()})
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)  # outside the genome: independent sampler
    return genome.to_string().count("1") * lr  # your training's validation loss here


study.optimize(objective, n_trials=8 if tiny else 60, n_jobs=2)

# The lineage the sampler wrote for each trial (read it from study.trials, not from `trial`):
for t in study.trials[-4:]:
    print(f"trial {t.number}: value {t.value:.4f}", lineage(t))
best = study.best_trial
print("best:", space.from_params({n: best.params[n] for n in space.distributions}).to_string(),
      f"lr={best.params['lr']:.2e}", f"value={best.value:.4f}")
