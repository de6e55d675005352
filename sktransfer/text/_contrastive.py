"""Contrastive fine-tuning of a sentence encoder on labelled texts (SetFit's first stage).

A sentence encoder places texts of similar meaning close together, but
"similar" is the meaning of its pre-training, not of the task at hand. SetFit
(Tunstall et al., 2022) showed that a few labelled texts per class are enough
to bend it: pair the texts, label each pair 1 (same class) or 0 (different
classes), and train the encoder so that the cosine similarity of a pair's two
vectors approaches its label (sentence-transformers' ``CosineSimilarityLoss``,
the mean squared error between the two). A linear model on the tuned vectors
then beats the same model on the frozen ones by several points at 8 labels
per class.

How it is done here, and why
----------------------------
SetFit runs every pair through the encoder twice (once per text), so that the
cost grows with the number of pairs. Here the pairs of a step are sampled
*within a batch of texts*: each text of the batch is encoded once, and each is
paired with ``n_pairs // 2`` texts of its class and as many of other classes
of the same batch, drawn at random with replacement (SetFit's
"oversampling": the rarer kind of pair is repeated, so that same-class and
different-class pairs weigh alike). A step of 32 texts then trains on hundreds
of pairs for the price of 32 forward passes instead of 32 pairs. The batches
of an epoch are a random permutation of the texts, sorted by token count
inside windows of a few batches, so that texts of similar length share a batch
(little padding) while partners stay random. Everything random (the batches,
the pairs, dropout) is drawn from ``random_state``.
"""

import contextlib
import functools
import math
import random

import numpy as np

from .._keras._precision import loss_scaled

LENGTH_WINDOW = 4
"""Batches per window of texts sorted by length: more saves padding, fewer keeps partners random."""

WEIGHT_DECAY = 0.01
"""AdamW's weight decay, as sentence-transformers fine-tunes with."""


def check_training_labels(labels, noun="document"):
    """The class of each text as an int array, or a ValueError saying why pairs cannot be made.

    Contrastive pairs need two classes (else there is no different-class
    pair) and at least two texts of every class (else a text of that class
    has no same-class partner).

    >>> check_training_labels(["a", "b", "a", "b"]).tolist()
    [0, 1, 0, 1]
    >>> check_training_labels(["a", "a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: class 'b' has 1 document (document 2); contrastive fine-tuning pairs each document with others of its class, so every class needs 2 or more: label more documents of 'b', or drop that class
    """
    classes, codes, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"contrastive fine-tuning needs 2 or more classes, y has {len(classes)} "
            f"({', '.join(map(repr, classes.tolist()))}); it learns which texts differ, so give "
            "texts of several classes, or use fine_tune=False"
        )
    for cls, count in zip(classes.tolist(), counts.tolist(), strict=True):
        if count < 2:
            where = int(np.flatnonzero(codes == classes.tolist().index(cls))[0])
            raise ValueError(
                f"class {cls!r} has 1 {noun} ({noun} {where}); contrastive fine-tuning pairs "
                f"each {noun} with others of its class, so every class needs 2 or more: label "
                f"more {noun}s of {cls!r}, or drop that class"
            )
    return codes.astype(np.int64)


def epoch_batches(lengths, batch_size, rng):
    """One epoch's batches: positions in a random order, sorted by length within windows.

    Parameters
    ----------
    lengths : ndarray of int, shape (n_texts,)
        Token counts.
    batch_size : int
        Texts per batch at most: each window of ``LENGTH_WINDOW * batch_size``
        texts is cut into as few batches as that allows, of equal sizes (40
        texts at 32 a batch: 2 of 20), so that no batch is left with a few
        texts and few pairs.
    rng : numpy.random.Generator

    Returns
    -------
    list of ndarray of int

    >>> rng = np.random.default_rng(0)
    >>> sorted(np.concatenate(epoch_batches(np.array([3, 9, 4, 8, 5]), 2, rng)).tolist())
    [0, 1, 2, 3, 4]
    """
    order = rng.permutation(len(lengths))
    window = batch_size * LENGTH_WINDOW
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += np.array_split(chunk, math.ceil(len(chunk) / batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:  # a lone text makes no pair
        lone = batches.pop()
        batches[-1] = np.concatenate([batches[-1], lone])
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def sample_pairs(codes, n_pairs, rng):
    """Pairs of a batch: ``(left, right, target)``, positions in the batch and 1.0 / 0.0.

    Each text is the left side of ``n_pairs // 2`` pairs with texts of its
    class and ``n_pairs - n_pairs // 2`` with texts of other classes, the
    partners drawn with replacement among the batch's other texts; a text
    with no partner of a kind in its batch has no pair of that kind.

    Parameters
    ----------
    codes : ndarray of int, shape (n,)
        The class of each text of the batch.
    n_pairs : int
    rng : numpy.random.Generator

    Returns
    -------
    left, right : ndarray of int32
    target : ndarray of float32
        1.0 for a same-class pair, 0.0 for a different-class one.

    >>> left, right, target = sample_pairs(np.array([0, 0, 1, 1]), 4, np.random.default_rng(0))
    >>> len(left), int(target.sum())
    (16, 8)
    >>> bool(np.all((np.array([0, 0, 1, 1])[left] == np.array([0, 0, 1, 1])[right]) == target))
    True
    """
    n_same = n_pairs // 2
    left, right, target = [], [], []
    positions = np.arange(len(codes))
    for i, code in enumerate(codes.tolist()):
        same = positions[(codes == code) & (positions != i)]
        other = positions[codes != code]
        for partners, count, label in ((same, n_same, 1.0), (other, n_pairs - n_same, 0.0)):
            if len(partners) and count:
                chosen = rng.choice(partners, size=count, replace=True)
                left += [i] * count
                right += chosen.tolist()
                target += [label] * count
    return (
        np.asarray(left, np.int32),
        np.asarray(right, np.int32),
        np.asarray(target, np.float32),
    )


def learning_rate_schedule(learning_rate, n_steps, warmup_fraction):
    """Linear warm-up from 0 over ``warmup_fraction`` of the steps, then cosine decay to 0."""
    import keras

    warmup = int(warmup_fraction * n_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else learning_rate,
        decay_steps=max(n_steps - warmup, 1),
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )


class SeededBuild:
    """Inside, Keras layers built get their default seeds (dropout) from ``seed``.

    Keras draws a layer's default seed from Python's ``random`` module; its
    state is set from ``seed`` on entry and restored on exit, so that nothing
    else in the process sees a difference.
    """

    def __init__(self, seed):
        self.seed = seed

    def __enter__(self):
        self._state = random.getstate()
        random.seed(self.seed)

    def __exit__(self, *exc):
        random.setstate(self._state)


class ContrastiveTrainer:
    """Trains a sentence encoder (``build_encoder``'s network) with pairs sampled in each batch.

    Parameters
    ----------
    model : keras.Model
        Inputs ``(input_ids, attention_mask)``, output the sentence vectors;
        its trainable layers learn.
    pad_id : int
    precision : str
        Resolved: float16 scales the loss.
    strategy : tf.distribute.Strategy or None
        The model must have been built under its scope. Each replica trains
        on a batch of its own (texts and their pairs), and the gradients are
        summed across replicas before each update, as Keras does.
    """

    def __init__(self, model, *, pad_id, precision, strategy=None):
        self.model = model
        self.pad_id = pad_id
        self.precision = precision
        self.strategy = strategy

    def fit(
        self,
        sequences,
        codes,
        *,
        n_pairs,
        batch_size,
        epochs,
        learning_rate,
        warmup_fraction,
        rng,
        progress=None,
    ):
        """Train; the mean loss of every step, in order.

        Parameters
        ----------
        sequences : list of list of int
            Token ids per text ([CLS] and [SEP] included).
        codes : ndarray of int
            The class of each text (``check_training_labels``).
        n_pairs, batch_size, epochs, learning_rate, warmup_fraction
            As ``SentenceEmbedder``'s parameters.
        rng : numpy.random.Generator
        progress : tqdm or None
            Advanced by the texts of each step.
        """
        import keras

        from ._bert import pad_batch

        lengths = np.fromiter(map(len, sequences), np.int64, len(sequences))
        plan = [epoch_batches(lengths, batch_size, rng) for _ in range(epochs)]
        batches = [batch for epoch in plan for batch in epoch]
        replicas = self.strategy.num_replicas_in_sync if self.strategy is not None else 1
        n_steps = math.ceil(len(batches) / replicas)
        scope = self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()
        with scope:
            optimizer = keras.optimizers.AdamW(
                learning_rate_schedule(learning_rate, n_steps, warmup_fraction),
                weight_decay=WEIGHT_DECAY,
            )
            optimizer = loss_scaled(optimizer, self.precision)
            variables = self.model.trainable_variables
            optimizer.build(variables)
        step = self._step_function(optimizer, variables, replicas)
        losses = []
        self.n_pairs_ = 0
        for start in range(0, len(batches), replicas):
            inputs = []
            for batch in batches[start : start + replicas]:
                ids, mask = pad_batch([sequences[i] for i in batch], self.pad_id)
                inputs.append((ids, mask, *sample_pairs(codes[batch], n_pairs, rng)))
                self.n_pairs_ += len(inputs[-1][2])
            while len(inputs) < replicas:  # the last step: a replica repeats a batch
                inputs.append(inputs[len(inputs) % len(batches[start:])])
            losses.append(self._run(step, inputs))
            if progress is not None:
                progress.update(sum(len(b) for b in batches[start : start + replicas]))
        return losses

    def _step_function(self, optimizer, variables, replicas):
        import tensorflow as tf

        model = self.model

        def replica_step(ids, mask, left, right, target):
            with tf.GradientTape() as tape:
                vectors = tf.cast(model([ids, mask], training=True), tf.float32)
                vectors = tf.math.l2_normalize(vectors, axis=-1)
                cosine = tf.reduce_sum(
                    tf.gather(vectors, left) * tf.gather(vectors, right), axis=-1
                )
                loss = tf.reduce_mean(tf.square(cosine - target))
                scaled = optimizer.scale_loss(loss / replicas)
            gradients = tape.gradient(scaled, variables)
            # The embeddings' gradients come as IndexedSlices, one slice per token, and
            # Keras' Adam squares slices, not their sums: a token seen twice in a batch
            # would take a larger step than its gradient asks for (and replicas sum
            # slices). Dense gradients make it Adam's update.
            gradients = [tf.convert_to_tensor(g) if g is not None else g for g in gradients]
            optimizer.apply(gradients, variables)
            return loss

        tokens = tf.TensorSpec((None, None), tf.int32)
        pairs = tf.TensorSpec((None,), tf.int32)
        signature = [tokens, tokens, pairs, pairs, tf.TensorSpec((None,), tf.float32)]
        if self.strategy is None:
            return tf.function(replica_step, input_signature=signature)
        strategy = self.strategy

        @functools.partial(tf.function, reduce_retracing=True)
        def distributed_step(per_replica):
            losses = strategy.run(replica_step, args=per_replica)
            return strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)

        return distributed_step

    def _run(self, step, inputs):
        if self.strategy is None:
            return float(step(*inputs[0]))
        per_replica = tuple(
            self.strategy.experimental_distribute_values_from_function(
                lambda context, k=k: inputs[context.replica_id_in_sync_group][k]
            )
            for k in range(5)
        )
        return float(step(per_replica))
