"""Start the app server and warm it: ``python serve.py [streamlit run options]``.

What ``make run``, the Dockerfile and the tests' servers use instead of ``streamlit run app.py`` (the same
server, the same options). Once the server is up, and without holding back anyone's page, it runs the
default page (the Area map of the default place) once in a session of its own with no browser attached,
so that the first person's Area map finds the catalogue, the place's boundaries, its area profile and
trends already loaded; then School to clinic the same way (the bundled feed's timetable and the compiled
router); then it freezes what is loaded out of the garbage collector's way (``_freeze``). A person who
arrives while it runs shares the work (Streamlit computes a cached value once). It logs one line with what it
did and the seconds it took. ``LNE_WARM=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
from pathlib import Path

from streamlit.logger import get_logger

APP = Path(__file__).resolve().parent / "app.py"
_LOG = get_logger("local_need_explorer.warm")  # printed as Streamlit prints its own lines
#: the pages run once at start-up, in order: the default page (the Area map), then School to clinic (the
#: bundled feed's timetable and the compiled router)
PAGES = ("", "school_to_clinic")


class _Sink:
    """A session client with no browser: it drops what the page sends, and says when the run finished."""

    client_context = None

    def __init__(self) -> None:
        self.finished = asyncio.Event()

    def write_forward_msg(self, msg) -> None:
        if msg.WhichOneof("type") == "script_finished":
            self.finished.set()


async def _run_page(runtime, page: str, timeout: float) -> None:
    """Run one page (its url path; "" is the default page) in a session of its own, on the server's event
    loop, then close the session."""
    from streamlit.proto.ClientState_pb2 import ClientState

    sink = _Sink()
    session_id = runtime.connect_session(client=sink, user_info={})
    try:
        info = runtime._session_mgr.get_active_session_info(session_id)  # noqa: SLF001 - no public way
        info.session.request_rerun(ClientState(page_name=page))
        await asyncio.wait_for(sink.finished.wait(), timeout)
    finally:
        runtime.close_session(session_id)


def warm(timeout: float = 180.0) -> None:
    """Wait for the server's runtime, then warm it (in this thread; the page script runs on its own)."""
    from streamlit.runtime import Runtime, RuntimeState

    t0 = time.perf_counter()
    while not (Runtime.exists() and Runtime.instance().state in (RuntimeState.NO_SESSIONS_CONNECTED,
                                                                 RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED)):
        if time.perf_counter() - t0 > timeout:
            _LOG.warning("warm-up skipped: the server did not start within %.0f s", timeout)
            return
        time.sleep(0.05)
    runtime = Runtime.instance()
    loop = runtime._get_async_objs().eventloop  # noqa: SLF001 - the loop connect_session must run on
    done = []
    try:
        for page in PAGES:
            t1 = time.perf_counter()
            asyncio.run_coroutine_threadsafe(_run_page(runtime, page, timeout), loop).result(timeout + 5)
            done.append(f"{page or 'default page'} {time.perf_counter() - t1:.1f} s")
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation: never stop the server for it
        _LOG.warning("warm-up stopped: %s: %s", type(exc).__name__, exc)
    done.append(_freeze())
    _LOG.info("warmed: %s", "; ".join(done) or "nothing")


def _freeze() -> str:
    """Move every object alive after the warm-up (modules, the catalogue, cached frames) out of the garbage
    collector's reach (:func:`gc.freeze`): its full collections then walk only what was made since.
    Streamlit's collection after each run is off (.streamlit/config.toml); Python's own still runs.
    Returns what a full collection took before and after, for the log."""
    t = time.perf_counter()
    gc.collect()
    before = time.perf_counter() - t
    gc.freeze()
    t = time.perf_counter()
    gc.collect()
    return f"full garbage collection {before * 1000:.0f} ms, then {(time.perf_counter() - t) * 1000:.0f} ms"


def main(argv: list[str]) -> None:
    if os.environ.get("LNE_WARM", "1") != "0":
        threading.Thread(target=warm, name="warm-first-view", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
