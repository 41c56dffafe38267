"""Compact days' break questions raced between CP-SAT and a clause-learning SAT solver.

A compact day's question "a schedule with at most k breaks?" (:mod:`solver.compact_scan`)
is a pure yes/no question over Booleans: which slot each meeting takes, who is busy
when, and where a company's busy slots leave a gap. Written as clauses
(:func:`build_clauses`) it goes to CaDiCaL 1.9.5, through PySAT. On the tight-table
days that CP-SAT's searches leave open, a SAT solver answers "no" far sooner
(measured on the generator's seed 4, "at most 5?": no in 3.9 s, where CP-SAT's
searches found no answer in 300 s), while CP-SAT's searches find the "yes" sooner on
the looser days (seed 0, "at most 1?": 1-2 s, CaDiCaL 9.3 s). So each question is
raced: one CP-SAT search in this process and the SAT solver in a child process; the
first answer wins and the other is stopped. The child is forked, and killed when its
answers are no longer wanted: a solve cannot be cut off reliably from outside
otherwise (PySAT's Kissat cannot be interrupted at all). CaDiCaL rather than Kissat
4.0.4, the other solver measured: it answered most questions sooner (seed 18's
optimum, "at most 7?": 6.0 s against 19.1 s) and, raced beside CP-SAT, proved every
day Kissat did, sooner (docs/benchmarks.md).

The questions from below (:func:`solver.compact_scan.raise_bound`: k = floor,
floor+1, … until the first "yes") go to one child that keeps its solver, and all it
learned, from one k to the next: each "no" becomes a clause "at least k+1 breaks" of
a totalizer over the break literals, and the next k is asked under an assumption.
That cut the whole scan of seed 18 (no up to 6, yes at 7) from about 30 s of fresh
solves to 8 s. The child runs ahead on its own; a "no" that CP-SAT finds first is
sent to it, so it skips that k. The same child goes on while the engine anneals (its
"yes" ends the annealing, :meth:`RacedQuestions.until_chain_finds`) and answers the
climb's caps above the bound when it gets there first; a cap below the
one it started at starts a new child. The child is killed with the process that
started it (``PR_SET_PDEATHSIG``): a cancelled run must not leave a solve behind.

The clauses cover compact days whose tables are all pooled and whose participants
have one desk each, without locked or current meetings (:func:`eligible`); other
days, and reproducible runs (one worker: the child's timing is the clock's), keep
CP-SAT's questions alone."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from solver.model.prepared import Prepared
from solver.model.solution import Solution

try:  # PySAT is a dependency; without its compiled solvers CP-SAT answers alone.
    from pysat.card import CardEnc, EncType, ITotalizer
    from pysat.formula import IDPool
    from pysat.solvers import Solver

    HAVE_SAT = True
except ImportError:  # pragma: no cover - exercised only where PySAT is missing
    HAVE_SAT = False

PR_SET_PDEATHSIG = 1  # prctl(2)
# The SAT solver (its PySAT name) that races each question beside one CP-SAT search.
SAT_SOLVER = "cadical195"
# Below this many literals an at-most-one is written pairwise, above it as a counter.
PAIRWISE_MAX = 6


def eligible(prep: Prepared) -> bool:
    """Whether :func:`build_clauses` states every rule of ``prep``'s compact day."""
    problem = prep.problem
    return (
        HAVE_SAT
        and hasattr(os, "fork")
        and bool(prep.pairs)
        and all(p.pair.must for p in prep.pairs)
        and not problem.locked
        and not problem.current
        and prep.pooled_limit is None
        and not any(prep.hosted_tables)
        and all(p.parallel == 1 for p in problem.participants)
    )


@dataclass(slots=True)
class Clauses:
    """The rules of a compact day as clauses, without the cap on the breaks in all.

    ``meeting_var[(pair, slot)]`` is the variable of that pair meeting in that slot
    (numbered first, 1..len(meeting_var)); ``breaks`` the literals that count the
    breaks (one per company and slot where a run of busy slots starts after a gap);
    ``top`` the highest variable used.
    """

    clauses: list[list[int]]
    meeting_var: dict[tuple[int, int], int]
    breaks: list[int]
    top: int


def build_clauses(prep: Prepared) -> Clauses:
    """Every rule of the day (:func:`eligible`) and the break counters, as clauses.

    - each pair meets exactly once, in one of its feasible slots;
    - a company is busy in a slot exactly when one of its meetings is there, and
      has at most one meeting per slot;
    - at most as many meetings per slot as pooled tables and, redundant but what
      makes the "no" answers short, at most twice as many busy companies, and each
      company busy in exactly as many slots as it has meetings;
    - a break literal is forced wherever a company's run of busy slots starts after
      an idle slot that follows an earlier busy slot of the same day;
    - at most ``max_breaks`` of those per company.
    """
    pool = IDPool()
    clauses: list[list[int]] = []
    meeting_var: dict[tuple[int, int], int] = {}
    for pair in prep.pairs:
        for slot in pair.slots:
            meeting_var[pair.index, slot] = pool.id(("x", pair.index, slot))

    def at_most(lits: list[int], bound: int, encoding: int = EncType.seqcounter) -> None:
        if len(lits) <= bound:
            return
        if bound == 1 and len(lits) <= PAIRWISE_MAX:
            encoding = EncType.pairwise
        clauses.extend(CardEnc.atmost(lits, bound, vpool=pool, encoding=encoding).clauses)

    for pair in prep.pairs:
        lits = [meeting_var[pair.index, slot] for slot in pair.slots]
        clauses.append(lits)  # empty when the pair has no feasible slot: no schedule
        at_most(lits, 1)

    slots = range(len(prep.slot_ids))
    busy: dict[tuple[int, int], int] = {}
    for company, pairs in enumerate(prep.pairs_of):
        for slot in slots:
            lits = [meeting_var[p, slot] for p in pairs if (p, slot) in meeting_var]
            if not lits:
                continue
            var = pool.id(("busy", company, slot))
            busy[company, slot] = var
            clauses.append([-var, *lits])
            clauses.extend([-lit, var] for lit in lits)
            at_most(lits, 1)

    if prep.has_tables:
        tables = len(prep.pooled_tables)
        meetings_in: dict[int, list[int]] = {slot: [] for slot in slots}
        busy_in: dict[int, list[int]] = {slot: [] for slot in slots}
        for (_, slot), var in meeting_var.items():
            meetings_in[slot].append(var)
        for (_, slot), var in busy.items():
            busy_in[slot].append(var)
        for slot in slots:
            at_most(meetings_in[slot], tables)
            at_most(busy_in[slot], 2 * tables)

    most_each = prep.problem.max_breaks
    breaks: list[int] = []
    for company, pairs in enumerate(prep.pairs_of):
        lits = [busy[company, s] for s in slots if (company, s) in busy]
        clauses.extend(
            CardEnc.equals(lits, len(pairs), vpool=pool, encoding=EncType.seqcounter).clauses
        )
        own: list[int] = []
        for day in prep.days:
            seen: list[int] = []  # seen[t]: busy in some slot of the day up to day[t]
            for t, slot in enumerate(day):
                var = pool.id(("seen", company, slot))
                here = busy.get((company, slot))
                if here is not None:
                    clauses.append([-here, var])
                if t:
                    clauses.append([-seen[t - 1], var])
                clauses.append(
                    [-var] + ([here] if here is not None else []) + ([seen[t - 1]] if t else [])
                )
                seen.append(var)
                here_before = busy.get((company, day[t - 1])) if t else None
                if t >= 2 and here is not None:
                    # Busy here, idle just before, busy earlier: a break ends here.
                    flag = pool.id(("break", company, slot))
                    clause = [-here, -seen[t - 2], flag]
                    if here_before is not None:
                        clause.append(here_before)
                    clauses.append(clause)
                    own.append(flag)
        if most_each is not None:
            at_most(own, most_each)
        breaks.extend(own)
    return Clauses(clauses, meeting_var, breaks, pool.top)


def _die_with_parent(parent: int) -> None:
    """In a child: be killed when the parent dies (Linux), so no solve outlives a run.

    A solver process that is killed (a cancelled run, a stopped server) cannot end
    its children itself, and a question on a tight day can take hours.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(0)


def _end_child(pid: int) -> None:
    """Kill the child if it still runs, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


# The chain's counter of breaks in all reaches at least this far (further when it
# starts higher): the caps it can ask under an assumption.
CHAIN_MOST = 60


def _run_chain(parent, solver_name, clauses, at_least, start, last_meeting_var, conn) -> None:
    """In the child: ask "at most k?" for k = start, start+1, … on one solver, learning on.

    ``at_least[j]`` is the literal "at least j+1 breaks". After each "no" it becomes a
    unit clause, so everything learned so far stays; a message m from the parent
    (every schedule has at least m breaks, proven by CP-SAT) does the same before the
    next question. Sends (k, False, []) per "no" and (k, True, meeting variables) at
    the first "yes", then ends. ``at_least`` covers every cap below the number of
    break literals; a cap at or above it is asked without an assumption.
    """
    try:
        _die_with_parent(parent)
        with Solver(name=solver_name, bootstrap_with=clauses) as solver:
            k = start
            while True:
                while conn.poll():
                    proven = conn.recv()
                    for j in range(k, min(proven, len(at_least))):
                        solver.add_clause([at_least[j]])
                    k = max(k, proven)
                cap = [-at_least[k]] if k < len(at_least) else []  # none: every break
                if solver.solve(assumptions=cap):
                    model = solver.get_model()
                    conn.send((k, True, [v for v in model if 0 < v <= last_meeting_var]))
                    break
                conn.send((k, False, []))
                if not cap:
                    break  # no schedule keeps the rules at all
                solver.add_clause([at_least[k]])
                k += 1
    finally:
        os._exit(0)


class _Chain:
    """The parent's side of a rising chain: its child, its connection, what it answered."""

    def __init__(self, pid: int, conn) -> None:
        self.pid = pid
        self.conn = conn
        self.start = 0  # the first cap the child asked
        self.no_up_to = -1  # every cap up to this one was answered no
        self.yes: tuple[int, list[int]] | None = None  # (cap, meeting variables)
        self.ended = False

    def read(self, timeout: float) -> None:
        """Take the child's reports that arrive within ``timeout`` seconds."""
        try:
            while not self.ended and self.conn.poll(timeout):
                cap, found, chosen = self.conn.recv()
                if found:
                    self.yes = (cap, chosen)
                    self.ended = True
                else:
                    self.no_up_to = max(self.no_up_to, cap)
                timeout = 0
        except (EOFError, OSError):
            self.ended = True  # the child ended (past its reach, or it failed)

    def knows(self, cap: int) -> bool:
        return self.no_up_to >= cap or (self.yes is not None and self.yes[0] <= cap)

    def tell_at_least(self, fewest: int) -> None:
        if not self.ended:
            with contextlib.suppress(OSError):
                self.conn.send(fewest)

    def close(self) -> None:
        _end_child(self.pid)
        self.conn.close()


@contextlib.contextmanager
def _watching(
    chain: _Chain | None, settled: Callable[[_Chain], bool], stop: threading.Event | None
) -> Iterator[threading.Event]:
    """An event, for the block's duration, set once ``settled(chain)`` holds or ``stop``
    is set; a thread takes the child's reports meanwhile (none come without a chain)."""
    event = threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if chain is None or chain.ended:
                done.wait(0.02)
            else:
                chain.read(0.02)
            if (chain is not None and settled(chain)) or (stop is not None and stop.is_set()):
                event.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield event
    finally:
        done.set()
        watcher.join()


class RacedQuestions:
    """``decide`` like :meth:`ScheduleModel.decide`, raced against a SAT solver when worthwhile.

    Every question goes to one child that asks k rising from the first cap asked and
    keeps what it learned from one k to the next (:func:`_run_chain`);
    :func:`solver.compact_scan.raise_bound` asks in that order, and the climb's caps
    above it are answered by CP-SAT or by the child when it gets there.
    """

    def __init__(self, model, prep: Prepared) -> None:
        self.model = model
        self.prep = prep
        self.solver = SAT_SOLVER
        self._clauses: Clauses | None = None
        self._var_meeting: dict[int, tuple[int, int]] = {}
        self._chain: _Chain | None = None
        self.last_children: list[int] = []  # the pids of the children started (tests)

    @property
    def most_breaks(self) -> int:
        return self.model.most_breaks

    def close(self) -> None:
        """End the chain's child, if one runs (the questions can still be asked)."""
        if self._chain is not None:
            self._chain.close()
            self._chain = None

    def chain_news(self) -> tuple[int, list[tuple[int, int]] | None] | None:
        """What the chain has answered so far: (every cap up to this one is a no, the
        (pair, slot)s of its "yes" or None); None when no chain runs."""
        chain = self._chain
        if chain is None:
            return None
        chain.read(0)
        return chain.no_up_to, self._chosen(chain)

    def chain_running(self) -> bool:
        """Whether a chain's child is still asking (it may yet answer)."""
        chain = self._chain
        if chain is None:
            return False
        chain.read(0)
        return not chain.ended

    def until_chain_finds(
        self, stop: threading.Event | None = None
    ) -> contextlib.AbstractContextManager[threading.Event]:
        """An event, for the block's duration, set when the chain's child finds a schedule
        (or ``stop`` is set): what ends work beside the chain that its "yes" makes moot.

        The chain asks from the proven bound up, so its first "yes" is optimal; the
        annealing beside it is then only wasting the time limit.
        """
        return _watching(self._chain, lambda chain: chain.yes is not None, stop)

    def decide(
        self,
        most_breaks: int,
        *,
        time_limit: float,
        workers: int,
        seed: int,
        stop: threading.Event | None = None,
        reproducible: bool = False,
    ) -> Solution:
        if reproducible or workers < 2:
            return self.model.decide(
                most_breaks,
                time_limit=time_limit,
                workers=workers,
                seed=seed,
                stop=stop,
                reproducible=reproducible,
            )
        started = time.perf_counter()
        chain = self._chain
        stale = chain is not None and (most_breaks < chain.start or chain.ended)
        if stale and not chain.knows(most_breaks):
            self.close()
            chain = None
        if chain is None:
            chain = self._chain = self._start_chain(most_breaks)
        chain.read(0)
        answer = Solution(status="UNKNOWN")
        if not chain.knows(most_breaks):
            answer = self._search_beside(chain, most_breaks, time_limit, started, seed, stop)
            if answer.status in ("OPTIMAL", "FEASIBLE", "INFEASIBLE"):
                if answer.status == "INFEASIBLE":
                    chain.tell_at_least(most_breaks + 1)  # the child skips this cap
                answer.seconds = time.perf_counter() - started
                return answer
        seconds = time.perf_counter() - started
        if chain.no_up_to >= most_breaks:
            return Solution(status="INFEASIBLE", seconds=seconds)
        if chain.yes is not None and chain.yes[0] <= most_breaks:
            return Solution(status="FEASIBLE", chosen=self._chosen(chain), seconds=seconds)
        answer.seconds = seconds
        return answer

    def _search_beside(
        self,
        chain: _Chain,
        most_breaks: int,
        time_limit: float,
        started: float,
        seed: int,
        stop: threading.Event | None,
    ) -> Solution:
        """One CP-SAT search for the question, stopped when the chain answers it first
        (or the caller stops)."""
        with _watching(chain, lambda chain: chain.knows(most_breaks), stop) as answered:
            left = max(0.0, time_limit - (time.perf_counter() - started))
            return self.model.decide(
                most_breaks, time_limit=left, workers=1, seed=seed, stop=answered
            )

    def clauses(self) -> Clauses:
        """The day's clauses, built once."""
        if self._clauses is None:
            self._clauses = build_clauses(self.prep)
            self._var_meeting = {v: key for key, v in self._clauses.meeting_var.items()}
        return self._clauses

    def _chosen(self, chain: _Chain) -> list[tuple[int, int]] | None:
        if chain.yes is None:
            return None
        return sorted(self._var_meeting[v] for v in chain.yes[1])

    def _start_chain(self, start: int) -> _Chain:
        base = self.clauses()
        clauses, at_least = base.clauses, []
        if start < len(base.breaks):  # else no cap to ask: any number of breaks will do
            reach = min(len(base.breaks) - 1, max(CHAIN_MOST, start))
            counter = ITotalizer(lits=base.breaks, ubound=reach, top_id=base.top)
            clauses, at_least = base.clauses + counter.cnf.clauses, counter.rhs
        parent_end, child_end = multiprocessing.Pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            parent_end.close()
            _run_chain(
                parent, self.solver, clauses, at_least, start, len(self._var_meeting), child_end
            )
        child_end.close()
        chain = _Chain(pid, parent_end)
        chain.start = start
        self.last_children.append(pid)
        return chain
