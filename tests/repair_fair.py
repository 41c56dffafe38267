"""A small demo fair scheduled by the solver and published, for the repair tests and the
repair benchmark: the same path the organizer takes (build, solve, publish)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scheduler import publishing
from scheduler.demo import generate_demo
from scheduler.models import Event, Phase, RunStatus, ScheduleRun
from scheduler.problem_builder import build_problem, with_defaults
from solver.engine import solve
from solver.problem_io import problem_to_dict, schedule_to_dict


def scheduled_fair(
    session: Session,
    *,
    buyers: int = 4,
    suppliers: int = 40,
    seed: int = 7,
    time_limit: float = 2.0,
    workers: int = 1,
    slug: str = "repair-fair",
) -> Event:
    """A demo fair with a solved and published schedule, on the day (committed)."""
    event = generate_demo(
        session, seed=seed, buyers=buyers, suppliers=suppliers, slug=slug, phase=Phase.SCHEDULING
    )
    parameters = with_defaults({"kind": "initial"})
    problem = build_problem(session, event, parameters=parameters)
    schedule = solve(problem, time_limit=time_limit, workers=workers, seed=0)
    run = ScheduleRun(
        event_id=event.id,
        kind="initial",
        status=RunStatus.SUCCEEDED,
        parameters=parameters,
        problem=problem_to_dict(problem),
        result=schedule_to_dict(schedule),
        progress=[],
        objective=schedule.objective,
        bound=schedule.bound,
    )
    session.add(run)
    session.flush()
    publishing.publish_run(session, event, run)
    event.phase = Phase.ON_THE_DAY
    session.commit()
    return event
