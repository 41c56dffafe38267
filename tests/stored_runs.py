"""Solver runs stored as the worker stores them, and their review page (run-review tests)."""

from __future__ import annotations

from collections.abc import Sequence

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import event_setup
from scheduler.models import Event, RunStatus, ScheduleRun
from solver.model.prepared import prepare
from solver.problem import Meeting, Schedule
from solver.problem_io import problem_from_dict, schedule_to_dict
from solver.reasons import explain_unscheduled
from solver.validation import check


def review_event(session: Session) -> Event:
    """An event with nothing in it: the runs carry their own problem."""
    event = event_setup.create_event(session, name="テスト商談会", timezone="Asia/Tokyo")
    session.commit()
    return event


def fixed_schedule(
    problem: dict, meetings: Sequence[Meeting], *, objective: int, bound: int
) -> Schedule:
    """``meetings`` (checked valid) as a schedule, its reasons from ``solver.reasons`` itself."""
    parsed = problem_from_dict(problem)
    assert check(parsed, meetings) == []
    return Schedule(
        status="FEASIBLE",
        objective=objective,
        bound=bound,
        solve_seconds=0.1,
        meetings=list(meetings),
        unscheduled=explain_unscheduled(prepare(parsed), list(meetings)),
    )


def stored_run(session: Session, event: Event, problem: dict, schedule: Schedule) -> ScheduleRun:
    """A finished run of ``problem`` whose result is ``schedule``, committed."""
    run = ScheduleRun(
        event_id=event.id,
        status=RunStatus.SUCCEEDED,
        parameters={"time_limit": 1},
        problem=problem,
        result=schedule_to_dict(schedule),
        progress=[],
        objective=schedule.objective,
        bound=schedule.bound,
    )
    session.add(run)
    session.commit()
    return run


def run_page(client: FlaskClient, event: Event, run: ScheduleRun, lang: str) -> str:
    """The run's review page in ``lang``."""
    client.post("/language", data={"lang": lang})
    return client.get(f"/events/{event.id}/schedule/runs/{run.id}").get_data(as_text=True)
