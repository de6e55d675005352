"""The TensorFlow/Keras runtime: what changes when TensorFlow, Keras or SciKeras do.

Private. The float type a network computes in (``_precision``), the shared
trainers that keep memory flat over repeated fits (``_shared_training``),
``tf.distribute`` strategies (``_distribution``), the one compiled forward
function per network (``_forward``) and the shim that brings SciKeras'
``KerasClassifier`` up to scikit-learn's contract (``_scikeras``). The
extractors and the heads build on it; it imports nothing of theirs.
"""
