"""Grid search over how much of a pretrained backbone to fine-tune, and the head.

``FineTuneImageClassifier`` trains EfficientNet-Lite0 (ImageNet weights) end to
end with a new softmax head on small Fashion-MNIST images. How many of its top
layers learn (``trainable_layers``: 0 keeps the backbone frozen) and the head's
hidden layers (``hidden_layer_sizes``) are ordinary parameters, so
``GridSearchCV`` chooses them by cross-validation; the best model is then
scored on held-out test images.

Run: ``.venv/bin/python examples/finetune_grid_search.py`` (several minutes on 2 cores).
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run on fewer images and epochs.
"""

import os

from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit

from sktransfer import FineTuneImageClassifier
from sktransfer.datasets import load_fashion_mnist

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
N_LABELS, N_TEST, EPOCHS, INPUT_SIZE = (60, 100, 2, 32) if FAST else (600, 1000, 8, 64)


def main():
    X_train, y_train = load_fashion_mnist("train", n=N_LABELS)
    X_test, y_test = load_fashion_mnist("test", n=N_TEST)
    model = FineTuneImageClassifier(
        input_size=INPUT_SIZE,
        epochs=EPOCHS,
        freeze_epochs=1,
        learning_rate=3e-3,
        early_stopping=False,
        random_state=0,
    )
    grid = {"trainable_layers": [0, 10], "hidden_layer_sizes": [(), (64,)]}
    # The fast run scores each candidate on one half of the images, trained on the other.
    cv = (
        StratifiedShuffleSplit(n_splits=1, test_size=0.5, random_state=0)
        if FAST
        else StratifiedKFold(3, shuffle=True, random_state=0)
    )
    search = GridSearchCV(model, grid, cv=cv)
    search.fit(X_train, y_train)
    results = search.cv_results_
    print(f"{N_LABELS} labelled {INPUT_SIZE}x{INPUT_SIZE} images, {EPOCHS} epochs per fit\n")
    for params, mean, std in zip(
        results["params"], results["mean_test_score"], results["std_test_score"]
    ):
        print(
            f"  trainable_layers={params['trainable_layers']:<3} "
            f"hidden_layer_sizes={str(params['hidden_layer_sizes']):6s} "
            f"validation accuracy {mean:.3f} ± {std:.3f}"
        )
    print(
        f"best: {search.best_params_}; test accuracy {search.score(X_test, y_test):.3f} "
        f"on {N_TEST} held-out images"
    )


if __name__ == "__main__":
    main()
