"""Serving a saved model over HTTP: ``sktransfer serve MODEL``.

``POST /predict`` and ``POST /predict_proba`` take image or audio files as
multipart uploads, or texts as JSON; concurrent requests share forward passes
(micro-batching). ``GET /health`` says whether the model is warmed up, and
``GET /metadata`` describes it. See ``docs/serving.md``.
"""

from .._extras import import_extra

for _module in ("starlette", "uvicorn", "python_multipart"):
    import_extra(_module, "serve", "sktransfer serve")

from ._app import create_app  # noqa: E402
from ._model import ServedModel  # noqa: E402

__all__ = ["ServedModel", "create_app", "run_server"]


def run_server(
    model_path,
    *,
    host="127.0.0.1",
    port=8000,
    modality=None,
    max_batch_size=32,
    max_wait_ms=5.0,
    max_request_bytes=10 << 20,
    log_level="info",
):
    """Load ``model_path`` and serve it until interrupted (uvicorn, one process).

    Parameters
    ----------
    model_path : path-like
        A model file written by ``sktransfer fit``, or a fitted pipeline saved
        with ``joblib.dump``.
    host, port : str, int
        Where to listen.
    modality : {"image", "audio", "text"} or None
        What the model takes, for a pickle whose first step does not say.
    max_batch_size, max_wait_ms, max_request_bytes
        As in ``create_app``.
    log_level : str, default="info"
        uvicorn's log level; "info" logs start-up and the model's timings.
    """
    import logging

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    model = ServedModel.load(model_path, modality)
    logging.getLogger("sktransfer.serve").info(
        "loaded %s (%s, %d classes) in %.2f s; warming up",
        model_path,
        model.modality,
        len(model.classes),
        model.timings["load_s"],
    )
    app = create_app(
        model,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_request_bytes=max_request_bytes,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
