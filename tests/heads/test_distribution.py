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
from sktransfer._keras._distribution import as_strategy

X, y = load_fashion_mnist(n=32)
devices = [device.name for device in tf.config.list_logical_devices("CPU")]
runs = {}
for name, distribution in (("one device", None), ("two devices", tf.distribute.MirroredStrategy(devices))):
    model = FineTuneImageClassifier(
        input_size=32, trainable_layers=1, freeze_epochs=1, epochs=2, batch_size=16, dropout=0,
        early_stopping=False, random_state=0, distribution=distribution,
    ).fit(X, y)
    runs[name] = {"loss": model.history_["loss"], "proba": model.predict_proba(X).tolist()}
print(json.dumps({
    "replicas": as_strategy("mirrored").num_replicas_in_sync,
    "devices": len(devices),
    "runs": runs,
}))
"""


def test_mirrored_training_on_two_devices_matches_one_device():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 2 and report["replicas"] == 2
    one, two = report["runs"]["one device"], report["runs"]["two devices"]
    assert len(one["loss"]) == 2  # the frozen warm-up epoch, then one with a layer unfrozen
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)
    np.testing.assert_allclose(two["proba"], one["proba"], rtol=0, atol=1e-5)


def test_an_unknown_distribution_is_refused():
    model = FineTuneImageClassifier(input_size=32, distribution="parameter_server")
    with pytest.raises(InvalidParameterError, match="distribution"):
        model.fit([[[[0]]]], [0])
