"""The supervisor's page: the effectiveness report for a period, drawn on the server, with the same
figures to download as CSV, JSON or the offline HTML file (`edge report` gives the same from a shell).

The page is plain HTML and a form: no script draws it, so it shows what the server computed and
nothing else. A browser without a session goes to the login page; an account that is not a
supervisor's is refused in words.
"""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures.
import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Literal, Protocol
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from edge.drills.desk import DrillDesk
from edge.kiosk.auth.web import Auth
from edge.kiosk.drill_pages import drills_panel
from edge.kiosk.hardening import NO_STORE
from edge.kiosk.supervisor_shell import not_a_supervisor, page
from edge.report.figures import Report
from edge.report.render import STYLESHEET, as_csv, as_html, as_json, report_body

_DEFAULT_SPAN_S = 86_400.0  # the page opens on the last 24 hours
_FORMATS = {"csv": ("text/csv; charset=utf-8", as_csv), "json": ("application/json", as_json),
            "html": ("text/html; charset=utf-8", as_html)}

Bucket = Literal["hour", "day"]


class SupervisorBackend(Protocol):
    drill_desk: DrillDesk

    def report(self, start: float, end: float, lane: str | None, bucket: str) -> Report: ...


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """What the page asks for: [start, end) in UTC, one lane or all, and the series' step."""

    start: float
    end: float
    lane: str | None
    bucket: Bucket

    def query(self) -> str:
        return urlencode({"from": _iso(self.start), "to": _iso(self.end), "lane": self.lane or "",
                          "bucket": self.bucket})


def read_period(start: str, end: str, lane: str, bucket: Bucket, lane_ids: Collection[str]) -> Period:
    """The period a form asked for (empty fields: the last 24 hours, every lane)."""
    until = _moment(end, "to") if end else time.time()
    since = _moment(start, "from") if start else until - _DEFAULT_SPAN_S
    if since >= until:
        raise PeriodError("'from' must be before 'to'")
    if lane and lane not in lane_ids:
        raise PeriodError(f"no lane {lane!r}; lanes are {', '.join(sorted(lane_ids))}")
    return Period(since, until, lane or None, bucket)


def supervisor_router(backend: SupervisorBackend, auth: Auth, lane_ids: Collection[str]) -> APIRouter:
    router = APIRouter()
    From = Annotated[str, Query(alias="from", max_length=32)]
    To = Annotated[str, Query(alias="to", max_length=32)]
    Lane = Annotated[str, Query(max_length=64)]

    async def answer(request: Request, query: tuple[str, str, str, Bucket],
                     shown: Callable[[Period, Report], Response], refused: Callable[[str], Response]) -> Response:
        """The report for a supervisor's query, as `shown` makes it; a query it cannot use, as `refused` says."""
        not_for_you = not_a_supervisor(auth, request)
        if not_for_you is not None:
            return not_for_you
        try:
            asked = read_period(*query, lane_ids)
        except PeriodError as problem:
            return refused(str(problem))
        report = await asyncio.to_thread(backend.report, asked.start, asked.end, asked.lane, asked.bucket)
        return shown(asked, report)

    @router.get("/supervisor", include_in_schema=False)
    async def supervisor_page(request: Request, start: From = "", end: To = "", lane: Lane = "",
                              bucket: Bucket = "hour") -> Response:
        def shown(asked: Period, report: Report) -> Response:
            form = _form(lane_ids, _iso(asked.start), _iso(asked.end), asked.lane or "", asked.bucket, asked.query())
            return HTMLResponse(page(form, drills_panel(backend.drill_desk) + report_body(report)), headers=NO_STORE)

        def refused(problem: str) -> Response:
            form = _form(lane_ids, start, end, lane, bucket, None)
            return HTMLResponse(page(form, f'<p class="banner">{escape(problem)}</p>'), 422, headers=NO_STORE)

        return await answer(request, (start, end, lane, bucket), shown, refused)

    @router.get("/supervisor/report.{kind}", include_in_schema=False)
    async def download(request: Request, kind: Literal["csv", "json", "html"], start: From = "", end: To = "",
                       lane: Lane = "", bucket: Bucket = "hour") -> Response:
        def attachment(asked: Period, report: Report) -> Response:
            media_type, render = _FORMATS[kind]
            name = f"report-{_iso(asked.start)}-{_iso(asked.end)}{'-' + asked.lane if asked.lane else ''}.{kind}"
            disposition = f'attachment; filename="{name.replace(":", "")}"'
            return Response(render(report), media_type=media_type,
                            headers={**NO_STORE, "Content-Disposition": disposition})

        return await answer(request, (start, end, lane, bucket), attachment,
                            lambda problem: Response(problem, 422, media_type="text/plain"))

    @router.get("/supervisor/style.css", include_in_schema=False)
    def stylesheet() -> FileResponse:
        return FileResponse(STYLESHEET, media_type="text/css")

    return router


def _moment(text: str, field: str) -> float:
    """A form's date or date and time, UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{field!r}: {text!r} is not a date (2026-12-01) or date and time (2026-12-01T08:00)") \
            from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M")


def _form(lane_ids: Collection[str], start: str, end: str, lane: str, bucket: str, query: str | None) -> str:
    choices = [("", "every lane")] + [(name, name) for name in sorted(lane_ids)]
    options = "".join(f'<option value="{escape(value)}"{" selected" if value == lane else ""}>{escape(text)}</option>'
                      for value, text in choices)
    buckets = "".join(f'<option{" selected" if step == bucket else ""}>{step}</option>' for step in ("hour", "day"))
    downloads = "" if query is None else " ".join(
        f'<a href="/supervisor/report.{kind}?{escape(query)}" download>{kind.upper()}</a>' for kind in _FORMATS)
    return (f'<form class="period" method="get" action="/supervisor">'
            f'<label>From (UTC) <input type="datetime-local" name="from" value="{escape(start)}"></label> '
            f'<label>To <input type="datetime-local" name="to" value="{escape(end)}"></label> '
            f'<label>Lane <select name="lane">{options}</select></label> '
            f'<label>Per <select name="bucket">{buckets}</select></label> '
            f'<button type="submit">Show</button></form>'
            + (f'<p class="downloads">Download: {downloads}</p>' if downloads else ""))
