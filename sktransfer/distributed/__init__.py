"""Running fitted extractors and pipelines on Dask and Ray clusters.

Dask and Ray schedule the work and move the data; these helpers only apply a
fitted estimator to a collection, partition by partition or batch by batch,
so that each worker unpickles the estimator (a pickle by reference: a few
kilobytes) and builds its network once. Grid searches need no helper: run
``GridSearchCV`` under ``joblib.parallel_config(backend="dask")`` or
``backend="ray"`` with a shared ``FeatureCache``; see ``docs/scaling.md``.
"""

from ._dask import dask_to_parquet, dask_transform
from ._ray import BatchTransformer

__all__ = ["BatchTransformer", "dask_to_parquet", "dask_transform"]
