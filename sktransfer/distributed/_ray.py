"""A fitted estimator as the callable class that Ray Data's ``map_batches`` runs in actors."""

import numpy as np


class BatchTransformer:
    """Apply a fitted estimator to batches of a Ray Dataset (or any dict of columns).

    Give the class to ``Dataset.map_batches`` with the estimator in
    ``fn_constructor_kwargs``: each actor unpickles the estimator once (an
    extractor pickles its weights by reference, so this is cheap) and builds
    its network on the first batch, then keeps it for every later batch.

    Parameters
    ----------
    estimator : fitted estimator or pipeline
    column : str, default="item"
        The batch's column of items (paths, clips, texts or images).
    method : str, default="transform"
        The estimator's method to call.
    output : str, default="features"
        The column the result goes to; the item column is dropped, the others kept.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer import AudioSpectralFeatures
    >>> clips = np.random.default_rng(0).standard_normal((3, 4096))
    >>> apply = BatchTransformer(AudioSpectralFeatures(input_sr=22050).fit(list(clips)))
    >>> batch = apply({"item": clips, "id": np.arange(3)})
    >>> sorted(batch), batch["features"].shape
    (['features', 'id'], (3, 193))

    With Ray Data (a local runtime here; ``ray.init(address=...)`` on a cluster),
    in batches of the extractor's ``batch_size``, one actor per core, and one
    TensorFlow thread per actor (``TF_NUM_INTRAOP_THREADS=1`` and
    ``TF_NUM_INTEROP_THREADS=1`` in ``ray.init``'s ``runtime_env``)::

        features = ray.data.from_items([{"item": path} for path in paths]).map_batches(
            BatchTransformer, fn_constructor_kwargs={"estimator": fitted},
            batch_size=32, compute=ray.data.ActorPoolStrategy(size=4), batch_format="numpy",
        )

    Ray Data starts a new actor pool for each execution of a dataset (each
    actor imports TensorFlow, unpickles the estimator and builds its network),
    so give one execution the whole collection rather than many small ones.
    """

    def __init__(self, estimator, *, column="item", method="transform", output="features"):
        self.estimator = estimator
        self.column = column
        self.method = method
        self.output = output

    def __call__(self, batch):
        items = batch[self.column]
        if isinstance(items, np.ndarray) and items.dtype == object:
            items = items.tolist()
        result = {name: values for name, values in batch.items() if name != self.column}
        result[self.output] = np.asarray(getattr(self.estimator, self.method)(items))
        return result
