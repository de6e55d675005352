"""FineTuneImageClassifier with a frozen backbone: activations once against every epoch.

On Fashion-MNIST (``--train`` training images, 1,000 test images, 64x64,
EfficientNet-Lite0 ImageNet weights), times ``fit`` of

(a) the naive loop: the frozen backbone runs on every image in every epoch
    (a subclass turning the reuse off), and
(b) ``FineTuneImageClassifier`` as it is, which computes the frozen pooled
    output once and trains the head on it,

for ``trainable_layers=0`` (frozen for all ``--epochs`` epochs) and
``trainable_layers=10`` (frozen for the ``freeze_epochs`` warm-up only), and
prints the time ratios and both test accuracies. Both paths run the same
training (same seed, same batches), so the accuracies agree.

Run: ``.venv/bin/python benchmarks/finetune_frozen.py [--train 1000] [--epochs 10]``
"""

import argparse
import time

from sktransfer import FineTuneImageClassifier
from sktransfer.datasets import load_fashion_mnist


class EveryEpoch(FineTuneImageClassifier):
    """The naive loop: no reuse of the frozen backbone's output."""

    def _frozen_activations_reusable(self):
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    X, y = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    X, y, X_test, y_test = X[: args.train], y[: args.train], X_test[:1000], y_test[:1000]
    print(
        f"Fashion-MNIST, {len(X)} training images, {len(X_test)} test images, 64x64, "
        f"{args.epochs} epochs, efficientnet_lite0"
    )
    print(
        f"{'trainable_layers':>16} {'naive fit s':>12} {'reuse fit s':>12} {'speed-up':>9} "
        f"{'naive acc':>10} {'reuse acc':>10}"
    )
    for trainable_layers in (0, 10):
        params = dict(
            input_size=64,
            epochs=args.epochs,
            freeze_epochs=args.epochs // 2,
            trainable_layers=trainable_layers,
            early_stopping=False,
            random_state=0,
        )
        results = []
        for cls in (EveryEpoch, FineTuneImageClassifier):
            model = cls(**params)
            start = time.perf_counter()
            model.fit(X, y)
            results.append((time.perf_counter() - start, model.score(X_test, y_test)))
        (naive, naive_acc), (reuse, reuse_acc) = results
        print(
            f"{trainable_layers:>16} {naive:>12.1f} {reuse:>12.1f} {naive / reuse:>8.2f}x "
            f"{naive_acc:>10.3f} {reuse_acc:>10.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
