"""Fine-tuning under a tf.distribute strategy on two logical CPU devices matches one device."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import FineTuneImageClassifier

# Logical devices must be configured before TensorFlow initialises: a fresh process.
SCRIPT = """
import json
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from sktransfer import FineTuneImageClassifier
from sktransfer.datasets import load_fashion_mnist
from sktransfer._keras import _shared_training
from sktransfer._keras._distribution import as_strategy


def placement(model):
    # Where the fitted network's variables live: its strategy and each variable's copies.
    strategy = model.model_.distribute_strategy
    copies = {len(getattr(v._value, "values", [v._value])) for v in model.model_.trainable_variables}
    return {
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "copies": sorted(copies),
    }


def steps_by_strategy():
    # Training steps run by the shared trainers, by the strategy each was built under.
    steps = {}
    for (_, strategy), (trainer, _) in _shared_training._TRAINERS.items():
        name = "none" if strategy is None else type(strategy).__name__
        steps[name] = steps.get(name, 0) + int(trainer.optimizer.iterations.numpy())
    return steps

X, y = load_fashion_mnist(n=32)
devices = [device.name for device in tf.config.list_logical_devices("CPU")]
runs = {}
for name, distribution in (("one device", None), ("two devices", tf.distribute.MirroredStrategy(devices))):
    model = FineTuneImageClassifier(
        input_size=32, trainable_layers=1, freeze_epochs=1, epochs=2, batch_size=16, dropout=0,
        early_stopping=False, random_state=0, distribution=distribution,
    ).fit(X, y)
    runs[name] = {
        "loss": model.history_["loss"],
        "proba": model.predict_proba(X).tolist(),
        "placement": placement(model),
        "steps": steps_by_strategy(),
    }
print(json.dumps({
    "replicas": as_strategy("mirrored").num_replicas_in_sync,
    "devices": len(devices),
    "runs": runs,
}))
"""


@pytest.mark.timeout(1200)  # two fine-tunings in a fresh process: 100-260 s on 2 busy cores
def test_mirrored_training_on_two_devices_matches_one_device():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 2 and report["replicas"] == 2
    one, two = report["runs"]["one device"], report["runs"]["two devices"]
    # The fitted network lives under the strategy given: each variable mirrored on both
    # devices; and a trainer built under that strategy ran the training steps.
    assert one["placement"] == {
        "strategy": "_DefaultDistributionStrategy",
        "replicas": 1,
        "copies": [1],
    }
    assert two["placement"] == {"strategy": "MirroredStrategy", "replicas": 2, "copies": [2]}
    assert one["steps"].get("MirroredStrategy", 0) == 0 and one["steps"]["none"] > 0
    assert two["steps"]["MirroredStrategy"] > 0
    assert len(one["loss"]) == 2  # the frozen warm-up epoch, then one with a layer unfrozen
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)
    np.testing.assert_allclose(two["proba"], one["proba"], rtol=0, atol=1e-5)


def test_an_unknown_distribution_is_refused():
    model = FineTuneImageClassifier(input_size=32, distribution="parameter_server")
    with pytest.raises(InvalidParameterError, match="distribution"):
        model.fit([[[[0]]]], [0])
