"""The results page's routes: the leaderboards, a run, a comparison, a study, and the same data as JSON.

Each route reads through :class:`~dlworkflow.ui.queries.ResultsReader` and renders a template of
:mod:`dlworkflow.ui.templates` through the package's one Jinja2 environment (autoescaped: a
description ``<script>`` arrives as text). A run's page embeds the very page ``dlw report``
writes; the leaderboards show the cells ``dlw runs`` prints. A
:class:`~dlworkflow.errors.WorkflowError` becomes a page (or JSON) with its message and a 4xx status.

Example:
    >>> from starlette.testclient import TestClient
    >>> from dlworkflow.ui.app import create_app
    >>> TestClient(create_app(settings), base_url="http://127.0.0.1").get("/").status_code  # doctest: +SKIP
    200
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs, urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dlworkflow.errors import RegistryError, WorkflowError
from dlworkflow.registry.run_pages import RunFilter
from dlworkflow.reporting.html_report import render_report
from dlworkflow.reporting.run_text import (
    leaderboard_cells,
    leaderboard_columns,
    leaderboard_title,
)
from dlworkflow.ui.live import POLL_SECONDS
from dlworkflow.ui.security import same_origin
from dlworkflow.ui.spec_differences import spec_differences

MAX_COMMENT_BYTES = 10_000
"""The largest comment form accepted."""


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from one of the UI's templates, with the settings and CSRF token every page uses."""
    state = request.app.state
    page = state.templates.get_template(template).render(
        settings=state.settings, csrf=state.csrf.value, poll_seconds=POLL_SECONDS, **context
    )
    return HTMLResponse(page, status_code=status_code)


def index(request: Request) -> Response:
    """``/``: one leaderboard per test set, filtered, sorted and paged; runs in progress above."""
    reader = request.app.state.reader
    run_filter = _run_filter(request)
    pages = reader.pages(run_filter)
    boards = [{
        "title": leaderboard_title(page), "columns": leaderboard_columns(page),
        "rows": [(run, leaderboard_cells(run)) for run in page.runs], "page": page,
        "next": _page_link(request, run_filter.page + 1) if page.has_next else None,
    } for page in pages]
    return render(
        request, "index.html.j2", boards=boards, running=reader.running(), filter=run_filter,
        test_sets=reader.test_set_names(),
        previous=_page_link(request, run_filter.page - 1) if run_filter.page > 1 else None,
    )


def api_runs(request: Request) -> Response:
    """``/api/runs``: the leaderboards of ``/`` (same filter and page) and the runs in progress, as JSON."""
    reader = request.app.state.reader
    pages = reader.pages(_run_filter(request))
    return JSONResponse({
        "leaderboards": [{
            "test_set_name": page.test_set_name, "test_set_fingerprint": page.test_set_fingerprint,
            "test_set_looks": page.test_set_looks, "metric": page.metric, "total": page.total,
            "offset": page.offset, "runs": [dataclasses.asdict(run) for run in page.runs],
        } for page in pages],
        "running": [run.to_dict() for run in reader.running()],
    })


def run_page(request: Request) -> Response:
    """``/runs/<id>``: everything ``dlw report`` shows, the curves drawn live, and the comment form."""
    reader = request.app.state.reader
    run_id = request.path_params["run_id"]
    running = reader.running_run(run_id)
    if running is not None:
        return render(request, "running.html.j2", run=running)
    record = reader.record(run_id)
    folder = reader.run_folder(record)
    report = render_report(record.to_dict(), folder if folder.is_dir() else None)
    style = report.split("<style>", 1)[1].split("</style>", 1)[0] if "<style>" in report else ""
    body = report.split("<body>", 1)[1].rsplit("</body>", 1)[0] if "<body>" in report else report
    # the report is dlworkflow's own template, autoescaped: its markup is safe to embed as it is
    return render(request, "run.html.j2", record=record, report_style=Markup(style), report_body=Markup(body),
                  curves=reader.curves(record.id).to_dict())


def api_run(request: Request) -> Response:
    """``/api/runs/<id>``: the run's record as ``dlw show --json`` prints it (a running run: its progress)."""
    reader = request.app.state.reader
    running = reader.running_run(request.path_params["run_id"])
    if running is not None:
        return JSONResponse(running.to_dict())
    return JSONResponse(reader.record(request.path_params["run_id"]).to_dict())


def api_curves(request: Request) -> Response:
    """``/api/runs/<id>/curves``: the run's curves (a running run's so far) and whether it still runs."""
    reader = request.app.state.reader
    run_id = request.path_params["run_id"]
    running = reader.running_run(run_id)
    curves = running.curves if running is not None else reader.curves(run_id)
    return JSONResponse({"running": running is not None, **curves.to_dict()})


async def add_comment(request: Request) -> Response:
    """``POST /runs/<id>/comments``: add a comment (form field ``text``), with the page's CSRF token."""
    state = request.app.state
    if state.settings.read_only:
        return PlainTextResponse("403: this results page is read-only (dlw ui --read-only).", status_code=403)
    body = await request.body()
    if len(body) > MAX_COMMENT_BYTES:
        return PlainTextResponse(f"413: a comment may have at most {MAX_COMMENT_BYTES} bytes.", status_code=413)
    form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    if not same_origin(request) or not state.csrf.valid(form.get("csrf")):
        return PlainTextResponse("403: the form's CSRF token is missing or wrong: reload the run's page and "
                                 "comment from there.", status_code=403)
    from starlette.concurrency import run_in_threadpool

    full_id = await run_in_threadpool(state.reader.registry.add_comment, request.path_params["run_id"],
                                      form.get("text", ""))
    return RedirectResponse(f"/runs/{full_id}#comments", status_code=303)


def compare_page(request: Request) -> Response:
    """``/compare?runs=a,b,c``: the runs' curves overlaid, test metrics beside the baselines, spec differences."""
    reader = request.app.state.reader
    named = [*request.query_params.get("runs", "").split(","), *request.query_params.getlist("run")]
    run_ids = list(dict.fromkeys(run_id.strip() for run_id in named if run_id.strip()))
    records, comparison = reader.comparison(run_ids)
    curves = [{"label": f"{record.name} ({record.id})", **reader.curves(record.id).to_dict()} for record in records]
    differences = spec_differences([record.spec for record in records])
    return render(request, "compare.html.j2", records=records, comparison=comparison, curves=curves,
                  differences=differences)


def study_page(request: Request) -> Response:
    """``/studies/<name>``: a tuning study's trials, each trial's parameters beside its objective value."""
    study = request.app.state.reader.study(request.path_params["name"])
    return render(request, "study.html.j2", study=study)


def workflow_error(request: Request, error: Exception) -> Response:
    """A WorkflowError as a page or JSON: 404 for an unknown run or study, else 400."""
    message = str(error)
    status = 404 if isinstance(error, RegistryError) and ("no run has" in message or "no recorded run" in message) \
        else 400
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html.j2", status_code=status, message=message)


def _run_filter(request: Request) -> RunFilter:
    query = request.query_params
    return RunFilter(
        name=query.get("name") or None, test_set=query.get("test_set") or None, status=query.get("status") or None,
        since=query.get("since") or None, until=query.get("until") or None, sort=query.get("sort") or "best",
        page=_whole(query.get("page"), "page", 1), per_page=_whole(query.get("per_page"), "per_page", 50),
    )


def _whole(value: str | None, key: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise RegistryError.single("results page", key, "must be a whole number", got=value) from None


def _page_link(request: Request, page: int) -> str:
    query = dict(request.query_params)
    query["page"] = str(page)
    return "/?" + urlencode(query)


ROUTES = [
    Route("/", index),
    Route("/api/runs", api_runs),
    Route("/api/runs/{run_id}", api_run),
    Route("/api/runs/{run_id}/curves", api_curves),
    Route("/runs/{run_id}", run_page),
    Route("/runs/{run_id}/comments", add_comment, methods=["POST"]),
    Route("/compare", compare_page),
    Route("/studies/{name}", study_page),
    Mount("/static", app=StaticFiles(packages=[("dlworkflow.ui", "static")]), name="static"),
]
"""Every route of the page; static files only from the package's ``static`` folder."""

EXCEPTION_HANDLERS = {WorkflowError: workflow_error}
"""Errors a route raises that become pages instead of a server error."""
