"""The HTTP application: routes, request limits, and the start-up that warms the model.

Starlette, served by uvicorn: a small ASGI toolkit with nothing between a
request and the code (no schema layer to keep in step with the model), whose
asynchronous handlers let one process hold many waiting requests while the
micro-batcher runs the model in a worker thread.
"""

import asyncio
import contextlib
import logging
import tempfile
import threading

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._batcher import MicroBatcher
from ._requests import RequestError, check_upload, parse_texts, rename_items, write_uploads

logger = logging.getLogger("sktransfer.serve")

WARM_UP_WAIT_S = 300  # longest wait of a prediction request for the warm-up to end


def _answer_for_failure(exc, items):
    """What a request whose items failed alone receives: 422 for bad input, else 500."""
    return RequestError(422 if isinstance(exc, ValueError) else 500, str(exc))


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


async def _read_uploads(request, limits):
    """The ``(name, bytes)`` of every uploaded file, in order."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise RequestError(415, "this model takes files: send them as multipart/form-data uploads")
    try:
        form = await request.form(
            max_files=limits["max_items"],
            max_fields=limits["max_items"],
            max_part_size=limits["max_request_bytes"],
        )
    except HTTPException as exc:  # the multipart parser's own limits and errors
        if "too many" in exc.detail.lower():
            raise RequestError(
                413, f"too many files in one request; at most {limits['max_items']}"
            ) from None
        raise RequestError(exc.status_code, f"cannot read the upload ({exc.detail})") from None
    try:
        uploads = []
        for _, value in form.multi_items():
            if isinstance(value, str):
                raise RequestError(400, "send files, not text fields, to a model of files")
            uploads.append((value.filename or "upload", await value.read()))
    finally:
        await form.close()
    if not uploads:
        raise RequestError(400, "no files in the request")
    return uploads


def create_app(model, *, max_batch_size=32, max_wait_ms=5.0, max_request_bytes=10 << 20):
    """The Starlette application serving ``model`` (a ``ServedModel``).

    Parameters
    ----------
    model : ServedModel
        Loaded; the application warms it up in a background thread at start.
    max_batch_size : int, default=32
        Most items in one forward pass, and in one request.
    max_wait_ms : float, default=5.0
        Longest wait of a request for others to share its batch.
    max_request_bytes : int, default=10 MiB
        Larger requests are refused with 413 before they are read.

    Returns
    -------
    starlette.applications.Starlette
    """
    limits = {"max_items": max_batch_size, "max_request_bytes": max_request_bytes}
    settled = threading.Event()  # the warm-up has ended, well (no error) or not
    state = {"error": None}
    batcher = MicroBatcher(
        model.predict,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        on_error=_answer_for_failure,
    )

    def warm_up():
        try:
            model.warm_up([1, max_batch_size])
        except Exception as exc:  # the server stays up and says why on /health
            state["error"] = f"{type(exc).__name__}: {exc}"
            settled.set()
            logger.exception("warm-up failed")
            return
        settled.set()
        logger.info(
            "model ready: loaded in %.2f s, warmed up in %.2f s",
            model.timings.get("load_s", 0.0),
            model.timings["warm_up_s"],
        )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        threading.Thread(target=warm_up, name="sktransfer-warm-up", daemon=True).start()
        yield
        await batcher.stop()

    async def health(request):
        if not settled.is_set():
            return JSONResponse({"status": "warming up"}, status_code=503)
        if state["error"]:
            return JSONResponse({"status": "failed", "error": state["error"]}, status_code=503)
        return JSONResponse({"status": "ready", "timings": model.timings})

    async def metadata(request):
        return JSONResponse(
            {
                **model.metadata,
                "max_batch_size": max_batch_size,
                "max_wait_ms": max_wait_ms,
                "max_request_bytes": max_request_bytes,
                "batches": batcher.batches,
                "items": batcher.items,
            }
        )

    async def _predict(request, with_proba):
        length = request.headers.get("content-length")
        if length is None:
            return _error(411, "a Content-Length header is required")
        if int(length) > max_request_bytes:
            return _error(413, f"the request has {int(length)} bytes; at most {max_request_bytes}")
        if with_proba and not model.metadata["has_predict_proba"]:
            return _error(400, "this model has no predict_proba; use /predict")
        if not settled.is_set():  # wait for the warm-up, however it ends
            await asyncio.get_running_loop().run_in_executor(None, settled.wait, WARM_UP_WAIT_S)
            if not settled.is_set():
                return _error(503, f"the model is still warming up after {WARM_UP_WAIT_S} s")
        if state["error"]:
            return _error(503, f"the model failed to start: {state['error']}")
        try:
            if model.modality == "text":
                if not request.headers.get("content-type", "").startswith("application/json"):
                    raise RequestError(415, 'this model takes texts: send JSON {"texts": [...]}')
                items, names, folder = (
                    parse_texts(await request.body(), limits["max_items"]),
                    {},
                    None,
                )
            else:
                uploads = await _read_uploads(request, limits)
                for name, data in uploads:
                    check_upload(model.modality, name, data)
                folder = tempfile.TemporaryDirectory(prefix="sktransfer-serve-")
                items, names = write_uploads(uploads, folder.name)
            try:
                labels, proba = await batcher.submit(items)
            except RequestError as exc:
                raise RequestError(exc.status, rename_items(exc.message, names)) from None
            finally:
                if folder is not None:
                    folder.cleanup()
        except RequestError as exc:
            return _error(exc.status, exc.message)
        answer = {"predictions": labels}
        if with_proba:
            answer = {"classes": model.classes, **answer, "probabilities": proba.tolist()}
        return JSONResponse(answer)

    async def predict(request):
        return await _predict(request, with_proba=False)

    async def predict_proba(request):
        return await _predict(request, with_proba=True)

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/metadata", metadata, methods=["GET"]),
            Route("/predict", predict, methods=["POST"]),
            Route("/predict_proba", predict_proba, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
