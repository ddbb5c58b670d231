"""The training drills on the supervisor's side: starting one (the panel on /supervisor), the debrief
page of a run (/supervisor/drills/{run}), its report as JSON, and the API the panel's script calls.

The debrief is drawn on the server like the report; only starting a drill needs a script, because
every change needs the session's CSRF token in a header (edge/kiosk/static/supervisor.js).
"""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures.
import asyncio
import json
import time
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from edge.drills.desk import DrillDesk, DrillRefused
from edge.drills.scenarios import DrillError
from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.web import Auth
from edge.kiosk.hardening import NO_STORE
from edge.kiosk.supervisor_shell import not_a_supervisor, page
from edge.lane.crossing import ActionRefused

if TYPE_CHECKING:
    from edge.drills.runner import DrillRun

_VERDICT_WORDS = {"right": "right", "too_lenient": "wrong: too lenient", "too_strict": "wrong: too strict",
                  "missed": "missed: no answer"}


class DrillBackend(Protocol):
    drill_desk: DrillDesk


class DrillStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lane: str = Field(min_length=1, max_length=64)
    drill: str = Field(min_length=1, max_length=64)


def drill_router(backend: DrillBackend, auth: Auth) -> APIRouter:
    router = APIRouter()
    Supervisor = Annotated[User, Depends(auth.require_role(Role.SUPERVISOR))]
    desk = backend.drill_desk

    @router.post("/api/drills", summary="start a drill on a training lane (supervisors)")
    async def start(request: DrillStart, user: Supervisor) -> dict:
        try:
            run = await asyncio.to_thread(desk.start, request.lane, request.drill, f"{user.username} (supervisor)")
        except (DrillRefused, ActionRefused) as exc:
            raise HTTPException(409, str(exc)) from None
        except DrillError as exc:
            raise HTTPException(422, str(exc)) from None
        return run.to_json(time.time())

    @router.get("/api/drills", summary="the drill files, the training lanes, and every run with its scores")
    def runs(_user: Supervisor) -> dict:
        now = time.time()
        return {"drills": desk.files(), "lanes": desk.lanes(), "runs": [run.to_json(now) for run in desk.runs()]}

    def supervisors_run(run_id: str, request: Request) -> "DrillRun | Response":
        """The run a supervisor asks for; otherwise the login, a refusal in words, or a 404 page."""
        refused = not_a_supervisor(auth, request)
        if refused is not None:
            return refused
        run = desk.run(run_id)
        if run is None:
            return HTMLResponse(page("", f'<p class="banner">No drill run {escape(run_id)}.</p>'), 404,
                                headers=NO_STORE)
        return run

    @router.get("/supervisor/drills/{run_id}", include_in_schema=False)
    def debrief(run_id: str, request: Request) -> Response:
        run = supervisors_run(run_id, request)
        if isinstance(run, Response):
            return run
        return HTMLResponse(page("", debrief_body(run.to_json(time.time()))), headers=NO_STORE)

    @router.get("/supervisor/drills/{run_id}/report.json", include_in_schema=False)
    def report(run_id: str, request: Request) -> Response:
        run = supervisors_run(run_id, request)
        if isinstance(run, Response):
            return run
        return Response(json.dumps(run.to_json(time.time()), indent=2), media_type="application/json",
                        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="drill-{run_id}.json"'})

    return router


def drills_panel(desk: DrillDesk) -> str:
    """The /supervisor page's drill panel: start a drill on a training lane, and the runs so far."""
    if not desk.lanes():
        return ""
    lanes = "".join(f"<option>{escape(lane)}</option>" for lane in desk.lanes())
    files = "".join(f"<option>{escape(name)}</option>" for name in desk.files())
    runs = "".join(f'<li><a href="/supervisor/drills/{escape(run.run_id)}">{escape(run.run_id)}</a>: '
                   f"{escape(run.drill.drill.name)}</li>" for run in reversed(desk.runs()))
    return ('<section class="drills"><h2>Training drills</h2>'
            '<form id="drill-start" class="period"><label>Training lane <select name="lane">' + lanes + "</select>"
            '</label> <label>Drill <select name="drill">' + files + "</select></label> "
            '<button type="submit">Start the drill</button> <span id="drill-problem" role="alert"></span></form>'
            + (f"<ul>{runs}</ul>" if runs else "<p>No drill has run since the service started.</p>") + "</section>")


def debrief_body(run: dict) -> str:
    """A run's debrief: the summary, then each scenario with the answer expected, given, and how fast."""
    result = run["result"]
    scored = {s["scenario"]: s for s in result["scores"]}
    rows = []
    for number, car in enumerate(run["cars"], 1):
        found = scored.get(car["scenario"])
        verdict = _VERDICT_WORDS[found["verdict"]] if found else "to come, or at the lane"
        given = (found["given"] or "") if found else ""
        seconds = "" if not found or found["seconds"] is None else f"{found['seconds']:.1f}" + (
            " (late)" if found["late"] else "")
        rows.append(f'<tr data-scenario="{escape(car["scenario"])}" data-verdict="{found["verdict"] if found else ""}">'
                    f"<td>{number}</td><td>{escape(car['scenario'])}</td><td>{escape(car['kind'])}</td>"
                    f"<td>{escape(car['brief'])}</td><td>{escape(car['expect'])}</td><td>{escape(given)}</td>"
                    f"<td>{escape(verdict)}</td><td>{seconds}</td></tr>")
    state = "finished" if run["finished"] else "running: refresh this page for the latest answers"
    started = datetime.fromtimestamp(run["started_at"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = (f'<p class="summary"><b>{result["right"]} of {len(run["cars"])} right</b>; '
               f'{result["too_lenient"]} too lenient, {result["too_strict"]} too strict, {result["missed"]} missed, '
               f'{result["late"]} late; median answer {result["median_seconds"] or "-"} s.</p>')
    return (f'<section class="debrief" data-finished="{str(run["finished"]).lower()}">'
            f'<h2>Debrief: {escape(run["name"])}</h2><p>Drill run {escape(run["run_id"])} on {escape(run["lane"])}, '
            f"started {started}; {state}.</p>{summary}"
            "<table><tr><th>#</th><th>scenario</th><th>kind</th><th>the case</th><th>expected</th><th>given</th>"
            "<th>verdict</th><th>seconds</th></tr>" + "".join(rows) + "</table>"
            f'<p class="downloads"><a href="/supervisor/drills/{escape(run["run_id"])}/report.json" download>'
            "The report (JSON)</a> · <a href=\"/supervisor\">Back to the supervisor's page</a></p></section>")
