"""The scheduling engine: problem in, validated schedule out.

Phases, each timed in ``stats["timings"]``:

1. *prepare* indices and every pair's feasible slots; *precheck* names obvious
   infeasibility (a must pair without a slot, unsound locks, must pairs beyond
   capacity) without search;
2. *relaxation bound* — a min-cost-flow b-matching (:mod:`solver.bound`), which
   also says which pairs an optimal schedule would like to hold; when breaks
   matter, less the breaks that participants with only must pairs cannot avoid
   (:mod:`solver.model.break_floor`), which the whole model also gets as constraints;
3. *warm starts* — greedy over all pairs, greedy over the relaxation's pairs, and,
   when breaks matter, a compact slot-by-slot timetable; every start that passes
   :func:`validation.check` is a fallback answer;
4. *timetable* — when breaks matter, the relaxation's consistent matching with
   every pair made a must: a compact day, searched by CP-SAT's core search on gap
   flags. A break-free timetable of it meets the relaxation bound, so it is
   optimal at once; where breaks remain, simulated annealing over Kempe-chain
   swaps (:mod:`solver.timetable_search`) removes most of them in seconds;
5. *focus* — CP-SAT on the relaxation's pairs (plus must, locked, current). When
   they all fit the schedule meets the relaxation bound and is optimal at once;
6. *whole model* — CP-SAT on every pair, hinted with the best schedule so far
   (with CP-SAT's full linearisation on small models); or, when the model would
   not fit the time or memory (re-solves on the day, 1000-company fairs), a
   large-neighbourhood search (:mod:`solver.model.lns`).
   A compact day (every pair a must, so only breaks vary) is asked instead
   "a schedule with at most k breaks?" for k from the floors up
   (:mod:`solver.compact_scan`): each "no" proves one more break, the first "yes"
   is optimal. Where a question is not answered in time, the proven bound stands;
   the best timetable is annealed (one is first found with the break rules left
   out when no warm start was valid), then a SAT solver re-plans it a window of
   slots or a few companies at a time (:mod:`solver.sat_windows`; in reproducible
   runs questions just above the bound look for a closer one instead), and
   CP-SAT's own optimisation has the rest;
7. tables are assigned, the objective is recomputed by :func:`validation.objective`
   (never copied from the solver) and every requested pair left out is explained.

The reported bound is the relaxation bound, or CP-SAT's when it has proved a
lower one for the whole model, or on a compact day the break-free score less
the fewest breaks proven. With ``workers=1`` the same problem and seed give
the same schedule: every phase is then budgeted by work done (CP-SAT's
deterministic time, the annealing's moves), not by the clock (:mod:`solver.work`),
so the time limit is kept on a normal machine but may be overrun on a very slow one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from solver import work
from solver.bound import flow_matching
from solver.compact_scan import ask_once, climb_above, raise_bound
from solver.greedy import compact_timetable, greedy_schedule
from solver.model.break_floor import break_floors
from solver.model.diagnosis import explain_infeasible
from solver.model.lns import improve
from solver.model.prechecks import finding, precheck
from solver.model.prepared import Prepared, PreparedPair, prepare
from solver.model.schedule_model import ScheduleModel
from solver.model.solution import Solution
from solver.model.table_assignment import assign_tables
from solver.problem import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    Meeting,
    Problem,
    Schedule,
)
from solver.reasons import explain_unscheduled
from solver.sat_questions import RacedQuestions
from solver.sat_questions import eligible as sat_eligible
from solver.sat_windows import improve_by_windows
from solver.timetable_search import eligible, improve_timetable
from solver.validation import (
    breaks_per_participant,
    check,
    meeting_counts,
    meeting_key,
    objective,
)

# Share of the time limit for timetabling the relaxation's pairs (phase 1).
FOCUS_SHARE = 0.35

# Phase 1 pays off only when it is much smaller than the whole model.
FOCUS_MAX_FRACTION = 0.7

# Time kept back for table assignment, validation and reasons: a share of the
# limit plus a little per x variable.
RESERVE_SHARE = 0.02
RESERVE_PER_VARIABLE = 1e-5

# Above this many x variables the whole model is not built: a large-neighbourhood
# search improves the best warm start instead (solver.model.lns). Below it, the
# model is still not built when building it would eat more than BUILD_SHARE of the
# time left (about BUILD_SECONDS_PER_VARIABLE each, constraints included): a
# re-solve on the day must answer in a second or two.
LNS_THRESHOLD = 100_000
BUILD_SECONDS_PER_VARIABLE = 4e-5
BUILD_SHARE = 0.25

# The slot-by-slot warm start builds one small model per slot: about
# COMPACT_SECONDS_PER_PAIR_SLOT per (pair, slot); it runs when that fits in
# COMPACT_SHARE of the time limit.
COMPACT_SECONDS_PER_PAIR_SLOT = 3e-5
COMPACT_SHARE = 0.25

# Phases 0 and 1 solve a sub-model to the end on fairs of a few hundred companies;
# beyond this many x variables they rarely find anything in their share of the time,
# which the neighbourhood search uses better.
SUBMODEL_MAX_VARIABLES = 30_000

# Whole models up to this many x variables are searched with CP-SAT's full
# linearisation (linearization_level 2): its cuts close the gap to the optimum on
# small fairs and re-solves, where the default level leaves the bound far above it.
FULL_LP_MAX_VARIABLES = 10_000

# Share of the time limit for timetabling the relaxation's matching as musts (phase 0).
TIMETABLE_SHARE = 0.5

# When the timetable still has breaks, this share of the time left anneals it
# (solver.timetable_search: Kempe-chain swaps, far faster moves than CP-SAT's).
ANNEAL_SHARE = 0.8

WARM_START_NAMES = ("greedy", "greedy_focus", "compact")

# Compact days the questions from below do not settle: this share of the time left
# anneals the best timetable (fast from hundreds of breaks to a dozen or two).
COMPACT_ANNEAL_SHARE = 0.3
# Compact days first get this share of the time left for the questions from below
# (solver.compact_scan), which prove most of them optimal. Their last question, the
# "yes" at the optimum, is the slow one (seed 3 of the generator: 2.4-4 s after 2.4 s
# of "no"s); with 0.7 here and 0.7 per question it was cut off at 3 s in a 10 s run.
COMPACT_SCAN_SHARE = 0.8
# Where a SAT child races the questions (solver.sat_questions), the questions above
# the floors have only this share in all. The child goes on asking on the other core
# after it, so a "yes" at the optimum that comes later still ends the run; what the
# share decides is how long the CP-SAT search races it, against the time the SAT
# windows (solver.sat_windows) get to bring the schedule down where the day stays
# open. The question at the floors keeps COMPACT_SCAN_SHARE: there CP-SAT's search
# finds the "yes" of the looser days (the generator's seed 0: 4.7-5.9 s, unanswered
# in 10 s runs with 0.5 for it). Measured on the generator's range: at 0.8 the open
# days' schedules had 27-32 (seed 9) and 20-21 (seed 19) breaks at 30 s, at 0.5
# 17-19 and 9-11, with the same days proven (docs/benchmarks.md).
COMPACT_SCAN_SHARE_BESIDE_CHAIN = 0.5
# When they stop short and the annealing has had its share, the SAT solver's windows
# (solver.sat_windows) have the time left; in reproducible runs, which have no SAT
# child, the questions above the proven bound have it.
COMPACT_WINDOWS_SHARE = 1.0
COMPACT_CLIMB_SHARE = 1.0
# A compact day with no valid schedule yet (every warm start missed must pairs) keeps
# this much of its time from the questions from below: a timetable without the break
# rules and its annealing within the cap need about 0.4 s on the generator's largest
# days (259 pairs). Without it a short limit (1-3 s) went to the first question and the
# run ended with no schedule at all on a day that has thousands.
FIRST_SCHEDULE_RESERVE = 0.6
# The annealing that repairs such a first timetable (its breaks over the cap) gets at
# least this long, even past the limit: a few thousand moves do not reach the cap, and
# without it the run has no valid schedule at all.
REPAIR_ANNEAL_SECONDS = 0.4
# ... and the search for that timetable at least this long, even past the limit: it
# ends with the first timetable (0.1-0.3 s), and without one the run has nothing.
TIMETABLE_START_SECONDS = 2.0
# The SAT windows start only with this much time left (loading the day's clauses into
# MiniSat takes 0.3-0.5 s on the largest days).
WINDOWS_MIN_SECONDS = 0.6


@dataclass(slots=True)
class _Found:
    """A valid schedule: its objective, meetings, and (pair, slot)/sides in ``prep``'s indices."""

    value: int
    meetings: list[Meeting]
    chosen: list[tuple[int, int]]
    sides: dict[tuple[int, int], int]
    source: str


class _Run:
    """The state of one ``solve`` call: timings, valid schedules found, phase stats."""

    def __init__(
        self, problem: Problem, prep: Prepared, started: float, reproducible: bool = False
    ) -> None:
        self.problem = problem
        self.prep = prep
        self.started = started
        # One worker: phases are budgeted by work done, not by the clock (solver.work).
        self.reproducible = reproducible
        self.work = 0.0
        self.timings: dict[str, float] = {}
        self.mark = started
        self.found: list[_Found] = []
        self.phases: dict[str, dict] = {}
        # Breaks no schedule avoids (solver.model.break_floor), and the fewest breaks
        # proven for the whole day (solver.compact_scan): the annealing stops there.
        self.break_floor = 0
        self.breaks_lower = 0
        # A compact day's break questions, raced against a SAT solver where its clauses
        # state the whole day (solver.sat_questions); None: the model's own.
        self.questions: RacedQuestions | None = None

    def lap(self, name: str, work: float = 0.0) -> None:
        """Time the phase just ended; ``work`` is what it used of the budget (seconds)."""
        now = time.perf_counter()
        self.timings[name] = round(now - self.mark, 4)
        self.mark = now
        self.work += work

    def elapsed(self) -> float:
        """Seconds of the time limit used: by the clock, or by work when reproducible."""
        return self.work if self.reproducible else time.perf_counter() - self.started

    def offer(
        self,
        source: Prepared,
        chosen: list[tuple[int, int]],
        sides: dict[tuple[int, int], int],
        name: str,
        kept: set | None = None,
    ) -> _Found | None:
        """Keep a candidate schedule if :func:`validation.check` accepts it.

        Current meetings keep their tables where free; when the model decided which
        current meetings it keeps (``kept``, meeting keys), only those claim theirs.
        """
        preferred = _current_tables(source, kept)
        try:
            meetings = assign_tables(source, chosen, sides, preferred)
        except RuntimeError:
            # Table counts that do not add up are a defect of that candidate alone;
            # other candidates (and the answer) must not be lost to it.
            return None
        if check(self.problem, meetings):
            return None
        found = _Found(
            objective(self.problem, meetings),
            meetings,
            _translate(chosen, source, self.prep),
            _translate_sides(sides, source, self.prep),
            name,
        )
        self.found.append(found)
        return found

    def best(self, within: set[int] | None = None) -> _Found | None:
        """The best valid schedule (the earliest on ties), optionally using only ``within``."""
        pool = [
            f for f in self.found if within is None or all(pair in within for pair, _ in f.chosen)
        ]
        return max(pool, key=lambda f: f.value, default=None)


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[float, int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> Schedule:
    """Schedule ``problem`` within about ``time_limit`` seconds.

    ``progress(elapsed_s, objective, bound)`` is called on each improving solution;
    setting ``stop`` ends the search and keeps the best schedule found.
    With ``workers=1`` the same problem and ``seed`` give the same schedule (see the
    module docstring).
    """
    started = time.perf_counter()
    prep = prepare(problem)
    run = _Run(problem, prep, started, reproducible=workers == 1)
    run.lap("prepare")
    findings = precheck(prep)
    run.lap("precheck")
    if findings:
        return _infeasible(run, findings, workers, seed, "precheck")

    relaxation, flow_pairs, matching = flow_matching(prep)
    flow_bound = relaxation
    run.lap("relaxation_bound")
    floors = break_floors(prep) if _breaks_matter(problem) else {}
    # The flow ignores breaks; those nobody can avoid come off its bound.
    run.break_floor = sum(floors.values())
    relaxation -= problem.break_penalty * run.break_floor
    run.lap("break_floors")
    focus = _focus_pairs(prep, flow_pairs)
    in_focus = set(focus)
    full_size = sum(len(p.slots) for p in prep.pairs)
    focus_size = sum(len(prep.pairs[i].slots) for i in focus)

    greedy = greedy_schedule(prep)
    warm_starts = [(greedy, "greedy")]
    if len(focus) < len(prep.pairs):
        warm_starts.append((greedy_schedule(prep, only_pairs=focus), "greedy_focus"))
    compact_cost = COMPACT_SECONDS_PER_PAIR_SLOT * len(focus) * len(problem.slots)
    if compact_cost <= COMPACT_SHARE * time_limit:
        # Timetable the relaxation's pairs slot by slot, most urgent people first;
        # when breaks matter, keep everyone's meetings in one block.
        blocks = problem.max_breaks is not None or bool(problem.break_penalty)
        per_slot = min(0.3, 0.2 * time_limit / max(1, len(problem.slots)))
        # The consistent matching (plus must, locked, current) gives honest slack counts.
        pairs = _focus_pairs(prep, matching)
        start = compact_timetable(
            prep, pairs, seconds_per_slot=per_slot, seed=seed, blocks=blocks, stop=stop
        )
        warm_starts.append((start, "compact"))
    else:
        per_slot = 0.0
    for start, name in warm_starts:
        if not start.missed_must:
            run.offer(prep, start.chosen, start.sides, name)
    run.lap("greedy", per_slot * len(problem.slots))
    report = _Reporter(progress, started)

    def affordable(variables: int) -> bool:
        """Whether a model of this size builds in a small share of the time left."""
        left = time_limit - run.elapsed()
        return variables <= LNS_THRESHOLD and variables * BUILD_SECONDS_PER_VARIABLE < (
            BUILD_SHARE * left
        )

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    # Phase 0: when breaks matter, timetable the relaxation's consistent matching with
    # every one of its pairs a must. It is then a compact day: the core search on the
    # gap flags finds break-free timetables (which meet the relaxation bound) or proves
    # that this choice of pairs needs breaks, far faster than the optional-pair model
    # finds either. Its infeasibility proves nothing (the pairs were optional).
    in_matching = _focus_pairs(prep, matching)
    matching_size = sum(len(prep.pairs[i].slots) for i in in_matching)
    best = run.best()
    if (
        _breaks_matter(problem)
        and not problem.current
        and not (best is not None and best.value >= relaxation)
        and matching_size <= FOCUS_MAX_FRACTION * full_size
        and matching_size <= SUBMODEL_MAX_VARIABLES
        and affordable(matching_size)
        and not stopped()
    ):
        _timetable_matching(run, in_matching, relaxation, report, time_limit, workers, seed, stop)

    # Phase 1: timetable the pairs the relaxation picks (plus must, locked, current).
    # When they all fit, the schedule meets the relaxation bound and is optimal; when
    # not, it is a strong hint. Must and locked pairs are all in, so without a break
    # cap a proof of infeasibility here holds for the whole problem (other pairs are
    # optional and only take room). Under max_breaks it does not: a meeting left out
    # of the focus may fill the gap between two must meetings, so only the whole
    # model can prove the cap impossible.
    proven_infeasible = False
    best = run.best()
    if (
        not (best is not None and best.value >= relaxation)
        and focus_size <= FOCUS_MAX_FRACTION * full_size
        and focus_size <= SUBMODEL_MAX_VARIABLES
        and affordable(focus_size)
        and not stopped()
    ):
        sub = _restrict(prep, focus)
        hint = run.best(in_focus) or run.best() or greedy
        model = ScheduleModel(sub)
        model.add_hint(_translate(hint.chosen, prep, sub), _translate_sides(hint.sides, prep, sub))
        run.lap("build_focus", _build_work(focus_size))
        solution, _ = model.solve(
            time_limit=max(0.05, FOCUS_SHARE * (time_limit - run.elapsed())),
            workers=workers,
            seed=seed,
            progress=report.phase(relaxation),
            stop=stop,
            reproducible=run.reproducible,
        )
        run.lap("cp_sat_focus", work.seconds_of(solution.deterministic_time))
        run.phases["focus"] = _phase_stats(solution, model, len(focus))
        if solution.has_solution:
            run.offer(sub, solution.chosen, solution.sides, "cp_sat_focus", _kept(model, solution))
        proven_infeasible = solution.status == "INFEASIBLE" and (
            problem.max_breaks is None or len(focus) == len(prep.pairs)
        )

    full_bound: int | None = None
    best = run.best()
    done = best is not None and best.value >= relaxation
    if not (done or stopped() or proven_infeasible):
        reserve = RESERVE_SHARE * time_limit + RESERVE_PER_VARIABLE * full_size
        if best is not None and not affordable(full_size):
            # Phase 2 for a problem too large to model whole in the time (or memory):
            # improve the best schedule neighbourhood by neighbourhood.
            _large_neighbourhood_search(
                run, best, relaxation, report, time_limit - reserve, workers, seed, stop
            )
        else:
            # Phase 2: every pair.
            compact = _is_compact_day(prep)
            # A compact day with no break allowed is modelled with breaks as a penalty
            # instead, and asked "a schedule with no break?" (solver.compact_scan): its
            # schedules with breaks are invalid here (run.offer rejects them), and a
            # "no" proves the cap infeasible.
            soft = compact and problem.max_breaks == 0
            if soft:
                relaxed = replace(problem, max_breaks=None, break_penalty=1)
                model = ScheduleModel(
                    replace(prep, problem=relaxed), gap_flags=True, break_floors=floors
                )
            else:
                model = ScheduleModel(prep, gap_flags=compact, break_floors=floors)
            hint = best or greedy
            model.add_hint(hint.chosen, hint.sides)
            run.lap("build", _build_work(full_size))
            if compact and model.break_total is not None:
                if sat_eligible(prep):
                    run.questions = RacedQuestions(model, prep)
                try:
                    relaxation, full_bound, proven_infeasible = _compact_day(
                        run,
                        model,
                        soft,
                        relaxation,
                        report,
                        time_limit - reserve,
                        workers,
                        seed,
                        stop,
                    )
                finally:
                    if run.questions is not None:
                        run.questions.close()
            else:
                solution = _full_round(
                    run, model, report, time_limit - reserve, workers, seed, stop
                )
                full_bound = solution.bound if solution.has_solution else None
                proven_infeasible = solution.status == "INFEASIBLE"

    if proven_infeasible:
        # Naming culprits is worth a few seconds, not another full time limit.
        diagnosis_time = max(1.0, min(5.0, time_limit / 2))
        findings = explain_infeasible(prep, time_limit=diagnosis_time, seed=seed, workers=workers)
        run.lap("diagnosis")
        return _infeasible(run, findings, workers, seed, "cp_sat")

    best = run.best()
    if best is None:
        findings = [
            finding(p.a, p.b, "not_found", "no schedule found within the time limit")
            for p in (prep.pairs[i].pair for i in greedy.missed_must)
        ]
        # Nothing is proven impossible: the bound stays the proven one, not 0.
        return _infeasible(run, findings, workers, seed, "timeout", bound=relaxation)

    bound = relaxation if full_bound is None else min(relaxation, full_bound)
    bound = max(bound, best.value)
    run.mark = time.perf_counter()
    unscheduled = explain_unscheduled(prep, best.meetings)
    run.lap("reasons")
    stats = _stats(problem, best.meetings, run, workers, seed)
    stats.update(
        source=best.source,
        relaxation_bound=flow_bound,
        break_floor=run.break_floor,
        warm_starts={f.source: f.value for f in run.found if f.source in WARM_START_NAMES},
    )
    return Schedule(
        status=STATUS_OPTIMAL if best.value == bound else STATUS_FEASIBLE,
        objective=best.value,
        bound=bound,
        solve_seconds=round(time.perf_counter() - started, 4),
        meetings=best.meetings,
        unscheduled=unscheduled,
        stats=stats,
    )


def _full_round(
    run: _Run,
    model: ScheduleModel,
    report: _Reporter,
    until: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
):
    """CP-SAT on the whole model for the time left; its schedule is offered."""
    full_size = len(model.vars.x)
    solution, _ = model.solve(
        time_limit=max(0.05, until - run.elapsed()),
        workers=workers,
        seed=seed,
        progress=report.phase(None),
        stop=stop,
        linearization=2 if full_size <= FULL_LP_MAX_VARIABLES else None,
        reproducible=run.reproducible,
    )
    run.lap("cp_sat", work.seconds_of(solution.deterministic_time))
    run.phases["full"] = _phase_stats(solution, model, len(run.prep.pairs))
    if solution.has_solution:
        run.offer(run.prep, solution.chosen, solution.sides, "cp_sat", _kept(model, solution))
    return solution


def _compact_day(
    run: _Run,
    model: ScheduleModel,
    soft: bool,
    relaxation: int,
    report: _Reporter,
    until: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
) -> tuple[int, int | None, bool]:
    """Every pair a must, only breaks vary: (bound, CP-SAT's bound or None, proven infeasible).

    1. Questions from below (:mod:`solver.compact_scan`) prove the fewest breaks, and
       most days optimal, in seconds.
    2. Where they stop short, the annealing (Kempe-chain swaps) brings the best
       timetable down fast; when no valid timetable is known yet (every warm start
       missed must pairs), one is found with the break rules left out first.
    3. Then a SAT solver re-plans the best timetable one window of slots or a few
       companies at a time (:mod:`solver.sat_windows`) with the time left; in
       reproducible runs questions above the proven bound look for one closer to
       it instead. CP-SAT's own optimisation, hinted with the best timetable, runs
       only when there were no questions to ask (no break allowed, or no penalty)
       or no valid timetable is known by then.
    """
    prep = run.prep
    problem = run.problem

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    def reached() -> bool:
        best = run.best()
        return stopped() or (best is not None and best.value >= relaxation)

    scan_bound, infeasible = _scan_compact_day(
        run, model, soft, report, until, workers, seed, stop, climb=False
    )
    if scan_bound is not None:
        relaxation = min(relaxation, scan_bound)
    if infeasible or reached():
        return relaxation, None, infeasible
    if not soft and eligible(prep):
        best = run.best()
        left = until - run.elapsed()
        if best is None:
            _timetable_without_break_rules(run, until, workers, seed, stop)
        else:
            # A SAT child still asking from the bound up, on the other core, ends the
            # annealing with its first "yes": that schedule is optimal.
            with _stop_or_chain_yes(run, stop) as halt:
                _anneal(run, prep, best.chosen, best.sides, COMPACT_ANNEAL_SHARE * left, seed, halt)
        _report_found(report, run.best(), relaxation)
        if reached():
            return relaxation, None, False
    if run.questions is not None and not soft and problem.break_penalty:
        # The SAT child of the questions from below went on up during the annealing,
        # on the core that leaves free; what it found counts. It goes on beside the
        # SAT windows, which have the time left (reproducible runs have no child and
        # no windows: the climb below has it there).
        relaxation = _chain_news(run, model, relaxation)
        if reached():
            return relaxation, None, False
        if run.best() is not None and not run.reproducible:
            relaxation = _sat_windows(run, model, relaxation, report, until, seed, stop)
            if reached() or run.best() is not None:
                return relaxation, None, False
    if not soft and problem.break_penalty:
        _scan_compact_day(run, model, soft, report, until, workers, seed, stop, climb=True)
        if run.questions is not None:
            # What the child proved during the climb's last question counts too.
            relaxation = _chain_news(run, model, relaxation)
        if reached() or run.best() is not None:
            return relaxation, None, False
    # No valid schedule yet (or the only question went unanswered): CP-SAT's own search.
    best = run.best()
    if best is not None:
        model.add_hint(best.chosen, best.sides)
    solution = _full_round(run, model, report, until, workers, seed, stop)
    full_bound = solution.bound if solution.has_solution else None
    infeasible = solution.status == "INFEASIBLE" or (
        soft and full_bound is not None and full_bound < _break_free_value(problem)
    )
    return relaxation, full_bound, infeasible


def _stop_or_chain_yes(
    run: _Run, stop: threading.Event | None
) -> contextlib.AbstractContextManager[threading.Event | None]:
    """``stop``, or, while the questions' SAT child runs, an event also set by its "yes"
    (a schedule at the proven bound, which makes work beside it moot)."""
    if run.questions is not None and run.questions.chain_running():
        return run.questions.until_chain_finds(stop)
    return contextlib.nullcontext(stop)


def _sat_windows(
    run: _Run,
    model: ScheduleModel,
    relaxation: int,
    report: _Reporter,
    until: float,
    seed: int,
    stop: threading.Event | None,
) -> int:
    """Re-plan the best timetable a part at a time (:mod:`solver.sat_windows`) with
    ``COMPACT_WINDOWS_SHARE`` of the time left: ``relaxation``, the bound on the
    objective, lowered where the whole day was answered "no" or the SAT chain proved more.

    The chain's child goes on beside it on the other core; its "yes" (a schedule at
    the bound) ends the windows. Each better schedule is reported as it is found.
    """
    best = run.best()

    def better(chosen: list[tuple[int, int]]) -> None:
        _report_found(report, run.offer(run.prep, chosen, {}, "compact_windows"), relaxation)

    seconds = COMPACT_WINDOWS_SHARE * max(0.0, until - run.elapsed())
    if seconds < WINDOWS_MIN_SECONDS:
        # Writing the day's clauses into a solver alone takes longer: the run would end
        # past its limit with nothing gained.
        return _chain_news(run, model, relaxation)
    with _stop_or_chain_yes(run, stop) as halt:
        result = improve_by_windows(
            run.prep,
            run.questions.clauses(),
            best.chosen,
            deadline=time.perf_counter() + seconds,
            floor=max(run.break_floor, run.breaks_lower),
            seed=seed,
            stop=halt,
            on_better=better,
        )
    run.lap("compact_windows", seconds)
    run.phases["compact_windows"] = {
        "status": "OPTIMAL" if result.optimal else "FEASIBLE",
        "breaks_removed": result.start_breaks - result.breaks,
        "questions": result.questions,
        "longest_question_seconds": round(result.longest, 3),
        "branches": 0,
        "conflicts": 0,
    }
    if result.optimal and result.breaks > run.breaks_lower:
        run.breaks_lower = result.breaks
        model.at_least_breaks(result.breaks)
        relaxation = min(
            relaxation, _break_free_value(run.problem) - run.problem.break_penalty * result.breaks
        )
    return _chain_news(run, model, relaxation)


def _chain_news(run: _Run, model: ScheduleModel, relaxation: int) -> int:
    """Take what the questions' SAT child answered after the scan: ``relaxation``, the
    bound on the objective, lowered by what it proved.

    Its "no"s raise the proven fewest breaks; its "yes" is a schedule at the bound.
    """
    news = run.questions.chain_news()
    if news is None:
        return relaxation
    no_up_to, chosen = news
    if chosen is not None:
        run.offer(run.prep, chosen, {}, "compact_chain")
    fewest = no_up_to + 1
    run.phases["compact_chain"] = {
        "status": "OPTIMAL" if chosen is not None else "FEASIBLE",
        "fewest_breaks": max(fewest, run.breaks_lower),
        "branches": 0,
        "conflicts": 0,
    }
    if fewest <= run.breaks_lower:
        return relaxation
    run.breaks_lower = fewest
    model.at_least_breaks(fewest)
    return min(relaxation, _break_free_value(run.problem) - run.problem.break_penalty * fewest)


def _scan_compact_day(
    run: _Run,
    model: ScheduleModel,
    soft: bool,
    report: _Reporter,
    until: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
    *,
    climb: bool,
) -> tuple[int | None, bool]:
    """Break questions on a compact day: (a bound on the objective or None, proven infeasible).

    From below (``climb`` False) the questions raise the proven fewest breaks; above
    it (``climb`` True) they look for a schedule close to it. ``soft``: the model
    counts breaks that the problem forbids (``max_breaks`` 0), so the only question
    is "a schedule with no break at all?", and "no" proves the problem infeasible.
    Without a break penalty any valid schedule is optimal, and the only question is
    whether one exists.
    """
    problem = run.problem
    left = max(0.0, until - run.elapsed())
    best = run.best()
    upper = None
    if best is not None:
        upper = sum(breaks_per_participant(problem, best.meetings).values())
    options = {
        "workers": workers,
        "seed": seed,
        "stop": stop,
        "reproducible": run.reproducible,
    }
    penalty = problem.break_penalty
    questions = run.questions or model
    if soft or not penalty:
        # One question: no break at all (soft), or any schedule within the caps.
        most = 0 if soft else model.most_breaks
        scan = ask_once(questions, most, COMPACT_SCAN_SHARE * left, **options)
    elif climb:
        scan = climb_above(
            questions, run.breaks_lower, COMPACT_CLIMB_SHARE * left, upper=upper, **options
        )
    else:
        above_floor = None
        if run.questions is not None and not run.reproducible:
            above_floor = COMPACT_SCAN_SHARE_BESIDE_CHAIN * left
        budget = COMPACT_SCAN_SHARE * left
        if best is None:
            budget = min(budget, max(0.0, left - FIRST_SCHEDULE_RESERVE))
        scan = raise_bound(
            questions,
            run.break_floor,
            budget,
            upper=upper,
            above_floor=above_floor,
            **options,
        )
    name = "compact_climb" if climb else "compact_scan"
    run.lap(name, scan.work)
    run.phases[name] = {
        "status": "INFEASIBLE" if scan.infeasible else ("OPTIMAL" if scan.settled else "FEASIBLE"),
        "fewest_breaks": scan.lower,
        "questions": scan.steps,
        "branches": 0,
        "conflicts": 0,
    }
    found = None
    if scan.solution is not None:
        found = run.offer(run.prep, scan.solution.chosen, scan.solution.sides, name)
    if soft or scan.infeasible or not penalty:
        # Breaks cost nothing here (or none is allowed): any schedule found is optimal.
        _report_found(report, found, None)
        return None, scan.infeasible
    run.breaks_lower = max(run.breaks_lower, run.break_floor, scan.lower)
    model.at_least_breaks(run.breaks_lower)
    bound = _break_free_value(problem) - penalty * run.breaks_lower
    # A schedule from the climb may lie above the bound: report the bound, not its value.
    _report_found(report, found, bound)
    return bound, False


def _report_found(report: _Reporter, found: _Found | None, bound: int | None) -> None:
    """Report a schedule found outside CP-SAT's own callbacks, with the proven ``bound``
    on the objective (None: the schedule is known to be optimal)."""
    callback = report.phase(None)
    if found is not None and callback is not None:
        callback(0.0, found.value, found.value if bound is None else bound)


def _timetable_matching(
    run: _Run,
    pairs: list[int],
    relaxation: int,
    report: _Reporter,
    time_limit: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
) -> None:
    """Phase 0: the matching's pairs as musts, searched for the fewest breaks."""
    prep = run.prep
    sub = _restrict(prep, pairs)
    for prepared in sub.pairs:
        prepared.pair = replace(prepared.pair, must=True)
    model = ScheduleModel(sub, gap_flags=True)
    hint = run.best(set(pairs))
    if hint is not None:
        model.add_hint(_translate(hint.chosen, prep, sub), _translate_sides(hint.sides, prep, sub))
    run.lap("build_timetable", _build_work(sum(len(p.slots) for p in sub.pairs)))
    # The core search first; when it finds no timetable at all (one worker, where full
    # tables make any one hard to find), CP-SAT's default search does.
    for core in (True, False):
        solution, _ = model.solve(
            time_limit=max(0.05, TIMETABLE_SHARE * (time_limit - run.elapsed())),
            workers=workers,
            seed=seed,
            progress=report.phase(relaxation),
            stop=stop,
            core=core,
            reproducible=run.reproducible,
        )
        name = "cp_sat_timetable" if core else "cp_sat_timetable_default"
        run.lap(name, work.seconds_of(solution.deterministic_time))
        if solution.has_solution or solution.status == "INFEASIBLE" or _stop_set(stop):
            break
    run.phases["timetable"] = _phase_stats(solution, model, len(pairs))
    if solution.has_solution:
        found = run.offer(sub, solution.chosen, solution.sides, "cp_sat_timetable")
        improvable = solution.status != "OPTIMAL" and found is not None
        if improvable and found.value < relaxation and eligible(sub):
            seconds = ANNEAL_SHARE * (time_limit - run.elapsed())
            _anneal(run, sub, solution.chosen, solution.sides, seconds, seed, stop)


def _timetable_without_break_rules(
    run: _Run,
    time_limit: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
) -> bool:
    """A compact day's first valid schedule: any timetable, then annealed within the cap.

    Returns whether the annealing ran (it then has had its share of the time).
    """
    prep = run.prep
    free = replace(prep.problem, max_breaks=None, break_penalty=0)
    model = ScheduleModel(replace(prep, problem=free))
    run.lap("build_timetable_start", _build_work(sum(len(p.slots) for p in prep.pairs)))
    # Without break rules the objective is fixed (every pair a must), so the first
    # timetable found ends the search: the time given is only a ceiling.
    solution, _ = model.solve(
        time_limit=max(TIMETABLE_START_SECONDS, time_limit - run.elapsed()),
        workers=workers,
        seed=seed,
        stop=stop,
        reproducible=run.reproducible,
    )
    run.lap("cp_sat_timetable_start", work.seconds_of(solution.deterministic_time))
    run.phases["timetable_start"] = _phase_stats(solution, model, len(prep.pairs))
    if not solution.has_solution:
        return False
    run.offer(prep, solution.chosen, solution.sides, "timetable_start")  # valid if within cap
    left = max(0.0, time_limit - run.elapsed())
    seconds = max(COMPACT_ANNEAL_SHARE * left, REPAIR_ANNEAL_SECONDS)
    _anneal(run, prep, solution.chosen, solution.sides, seconds, seed, stop, repair=True)
    return True


def _anneal(
    run: _Run,
    source: Prepared,
    chosen: list[tuple[int, int]],
    sides: dict[tuple[int, int], int],
    seconds: float,
    seed: int,
    stop: threading.Event | None,
    repair: bool = False,
) -> _Found | None:
    """Fewer breaks for the same meetings (:mod:`solver.timetable_search`), for ``seconds``.

    With ``repair`` the start may break ``max_breaks``, and whatever comes back is
    offered (it is checked like any schedule).
    """
    moves = None
    deadline = time.perf_counter() + seconds
    if run.reproducible:
        moves = max(1, round(work.MOVES_PER_SECOND * seconds))
        deadline = time.perf_counter() + work.WALL_SLACK * seconds
    better, saved = improve_timetable(
        source,
        chosen,
        deadline=deadline,
        moves=moves,
        seed=seed,
        stop=stop,
        floor=max(run.break_floor, run.breaks_lower),
    )
    run.lap("anneal", seconds)
    run.phases["anneal"] = {
        "status": "FEASIBLE",
        "breaks_removed": saved,
        "branches": 0,
        "conflicts": 0,
    }
    if saved <= 0 and not repair:
        return None
    return run.offer(source, better, sides, "anneal")


def _stop_set(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _build_work(variables: int) -> float:
    """Budgeted seconds for building a model with this many x variables."""
    return BUILD_SECONDS_PER_VARIABLE * variables


def _breaks_matter(problem: Problem) -> bool:
    return problem.max_breaks is not None or bool(problem.break_penalty)


def _large_neighbourhood_search(
    run: _Run,
    best: _Found,
    relaxation: int,
    report: _Reporter,
    until: float,
    workers: int,
    seed: int,
    stop: threading.Event | None,
) -> None:
    """Improve ``best`` until ``until`` seconds of the time limit are used."""
    callback = report.phase(relaxation)
    budget = max(0.0, until - run.elapsed())
    deadline = time.perf_counter() + (work.WALL_SLACK if run.reproducible else 1.0) * budget
    value = [best.value]

    def on_improvement(gain: int) -> None:
        value[0] += gain
        if callback is not None:
            callback(0.0, value[0], relaxation)

    lns = improve(
        run.prep,
        best.chosen,
        best.sides,
        deadline=deadline,
        workers=workers,
        seed=seed,
        on_improvement=on_improvement,
        stop=stop,
        windows=run.problem.max_breaks is not None or bool(run.problem.break_penalty),
        budget=budget if run.reproducible else None,
    )
    run.lap("lns", budget)
    run.phases["lns"] = {
        "status": "FEASIBLE",
        "neighbourhoods": lns.neighbourhoods,
        "improvements": lns.improvements,
        "gained": lns.gained,
        "branches": lns.branches,
        "conflicts": lns.conflicts,
    }
    if lns.improvements:
        run.offer(run.prep, lns.chosen, lns.sides, "lns")


class _Reporter:
    """Forwards only improving solutions to ``progress``, with a bound valid for the problem."""

    def __init__(self, progress: Callable[[float, int, int], None] | None, started: float):
        self._progress = progress
        self._started = started
        self._best: int | None = None

    def phase(self, bound_cap: int | None) -> Callable[[float, int, int], None] | None:
        """A callback for one CP-SAT run; ``bound_cap`` replaces a bound that covers a subset."""
        if self._progress is None:
            return None

        def report(_elapsed: float, value: int, bound: int) -> None:
            if self._best is not None and value <= self._best:
                return
            self._best = value
            shown = bound if bound_cap is None else bound_cap
            elapsed = time.perf_counter() - self._started
            self._progress(elapsed, value, max(value, shown))

        return report


def _phase_stats(solution, model: ScheduleModel, pairs: int) -> dict:
    """What one CP-SAT phase did, in numbers that a one-worker run repeats exactly.

    Its clock time is not here but in ``stats["timings"]`` (the ``cp_sat_*`` laps):
    the docs promise that with one worker only ``solve_seconds`` and the timings
    differ between runs. ``deterministic_time`` is CP-SAT's count of work done.
    """
    return {
        "status": solution.status,
        "pairs": pairs,
        "variables": model.variable_count,
        "branches": solution.branches,
        "conflicts": solution.conflicts,
        "deterministic_time": round(solution.deterministic_time, 4),
        "objective": solution.objective,
        "best_bound": solution.bound,
    }


def _kept(model: ScheduleModel, solution: Solution) -> set | None:
    """The current meetings the model keeps, or None when it does not model keeping."""
    return solution.kept if model.keep_by_key else None


def _current_tables(prep: Prepared, kept: set | None = None) -> dict[tuple[int, int], str]:
    """(pair, slot) -> table of the ``current`` plan, to keep people where they were.

    With ``kept`` (meeting keys the model keeps) only those meetings are listed,
    so a meeting the model gave up cannot take a table a kept one needs.
    """
    return {
        (prep.pair_index[m.key], prep.slot_index[m.slot]): m.table
        for m in prep.problem.current
        if m.table is not None
        and m.key in prep.pair_index
        and m.slot in prep.slot_index
        and (kept is None or meeting_key(m) in kept)
    }


def _is_compact_day(prep: Prepared) -> bool:
    """Whether every pair is a must and breaks are the only thing left to optimise."""
    problem = prep.problem
    breaks = problem.max_breaks is not None or bool(problem.break_penalty)
    return (
        breaks
        and bool(prep.pairs)
        and all(p.pair.must for p in prep.pairs)
        and not (problem.current and problem.change_penalty)
    )


def _break_free_value(problem: Problem) -> int:
    """The objective of a schedule of every pair with no break (all pairs must meet)."""
    meetings = Counter(who for pair in problem.pairs for who in (pair.a, pair.b))
    bonus = problem.meeting_bonus
    return sum(pair.weight for pair in problem.pairs) + sum(
        sum(bonus[:count]) for count in meetings.values()
    )


def _focus_pairs(prep: Prepared, flow_pairs: list[int]) -> list[int]:
    """The relaxation's pairs plus every must, locked and current pair."""
    current = {prep.pair_index[m.key] for m in prep.problem.current if m.key in prep.pair_index}
    keep = {p.index for p in prep.pairs if p.pair.must or p.locked is not None}
    return sorted(keep | current | set(flow_pairs))


def _restrict(prep: Prepared, pairs: list[int]) -> Prepared:
    """A prepared problem with only ``pairs`` (indices into ``prep.pairs``)."""
    chosen = [prep.pairs[i] for i in pairs]
    sub = replace(prep, pairs=[], pair_index={}, pairs_of=[[] for _ in prep.participant_ids])
    for new_index, old in enumerate(chosen):
        copy = PreparedPair(
            new_index,
            old.pair,
            old.a,
            old.b,
            old.slots,
            old.locked,
            old.both_hosts,
            old.pooled_lock,
        )
        sub.pairs.append(copy)
        sub.pair_index[old.pair.key] = new_index
        sub.pairs_of[old.a].append(new_index)
        sub.pairs_of[old.b].append(new_index)
    return sub


def _translate(
    chosen: list[tuple[int, int]], source: Prepared, target: Prepared
) -> list[tuple[int, int]]:
    """(pair, slot) from one prepared problem's pair indices to another's."""
    if source is target:
        return chosen
    out = []
    for pair_index, slot in chosen:
        key = source.pairs[pair_index].pair.key
        if key in target.pair_index:
            out.append((target.pair_index[key], slot))
    return out


def _translate_sides(
    sides: dict[tuple[int, int], int], source: Prepared, target: Prepared
) -> dict[tuple[int, int], int]:
    """Host–host side choices from one prepared problem's pair indices to another's."""
    if source is target:
        return sides
    out = {}
    for (pair_index, slot), host in sides.items():
        key = source.pairs[pair_index].pair.key
        if key in target.pair_index:
            out[target.pair_index[key], slot] = host
    return out


def _infeasible(
    run: _Run, findings: list[dict], workers: int, seed: int, found_by: str, bound: int = 0
) -> Schedule:
    stats = {
        "timings": run.timings,
        "workers": workers,
        "seed": seed,
        "infeasible_found_by": found_by,
        "locks": [f for f in findings if f["reason"].startswith("lock")],
        "counts": _counts(run.problem),
    }
    if run.phases:
        stats["cp_sat"] = _cp_stats(run)
    return Schedule(
        status=STATUS_INFEASIBLE,
        objective=0,
        bound=bound,
        solve_seconds=round(time.perf_counter() - run.started, 4),
        unscheduled_must=findings,
        stats=stats,
    )


def _cp_stats(run: _Run) -> dict:
    phases = run.phases
    return {
        "status": next(reversed(phases.values()))["status"] if phases else None,
        "branches": sum(p["branches"] for p in phases.values()),
        "conflicts": sum(p["conflicts"] for p in phases.values()),
        "phases": phases,
    }


def _counts(problem: Problem) -> dict[str, int]:
    return {
        "participants": len(problem.participants),
        "slots": len(problem.slots),
        "tables": len(problem.tables) if problem.tables is not None else 0,
        "pairs": len(problem.pairs),
        "must_pairs": sum(1 for p in problem.pairs if p.must),
        "locked": len(problem.locked),
        "current": len(problem.current),
    }


def _stats(problem: Problem, meetings: list[Meeting], run: _Run, workers: int, seed: int) -> dict:
    per_participant = list(meeting_counts(problem, meetings).values()) or [0]
    return {
        "counts": {**_counts(problem), "meetings": len(meetings)},
        "timings": run.timings,
        "breaks_total": sum(breaks_per_participant(problem, meetings).values()),
        "meetings_per_participant": {
            "min": min(per_participant),
            "mean": round(sum(per_participant) / len(per_participant), 3),
            "max": max(per_participant),
        },
        "workers": workers,
        "seed": seed,
        "cp_sat": _cp_stats(run),
    }
