"""The solve command: clear one-line errors with exit status 2 for bad files, and,
with the engine, a valid schedule file (exit 0) or an explained infeasibility (exit 1)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from solver.cli import main, run_solve, solve_command, summary
from solver.problem import Meeting, Schedule, UnscheduledPair
from solver.problem_io import load_problem, load_schedule
from solver.validation import check, objective

SMALL = Path(__file__).parent / "data" / "small.json"
REPO = Path(__file__).resolve().parents[2]


def small() -> dict[str, Any]:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def with_unknown_field(data: dict[str, Any]) -> None:
    data["pairs"][2]["wieght"] = data["pairs"][2].pop("weight")


def with_unknown_id(data: dict[str, Any]) -> None:
    data["pairs"][4]["b"] = "S0001"


def with_naive_time(data: dict[str, Any]) -> None:
    data["slots"][3]["start"] = "2027-02-10T13:00:00"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            with_unknown_field,
            'error: pairs[2].wieght: unknown field; did you mean "weight"?',
            id="unknown-field",
        ),
        pytest.param(
            with_unknown_id,
            'error: pairs[4].b: unknown participant "S0001"; did you mean "S001"?',
            id="unknown-id",
        ),
        pytest.param(
            with_naive_time,
            'error: slots[3].start: "2027-02-10T13:00:00" has no UTC offset',
            id="naive-time",
        ),
    ],
)
def test_invalid_problem_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, expected: str
) -> None:
    data = small()
    mutate(data)
    assert main(["solve", str(write(tmp_path, data))]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(expected)
    assert captured.err.count("\n") == 1  # one line, no traceback
    assert captured.out == ""


def test_invalid_json_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "matchfair-problem/1",\n  "slots": [}\n', encoding="utf-8")
    assert main(["solve", str(path)]) == 2
    assert capsys.readouterr().err.startswith("error: invalid JSON at line 3, column 13:")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["solve", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: cannot read {missing}: No such file or directory\n"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["solve"], id="no-file"),
        pytest.param(["solve", "p.json", "--workers", "0"], id="no-workers"),
        pytest.param(["solve", "p.json", "--time-limit", "-1"], id="negative-time"),
        pytest.param(["solve", "p.json", "--time-limit", "nan"], id="nan-time"),
        pytest.param(["solve", "p.json", "--time-limit", "inf"], id="infinite-time"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--help"]) == 0
    assert "--time-limit S" in capsys.readouterr().out


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows tools write UTF-8 with a BOM; the file is still UTF-8 JSON."""
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(small()).encode())
    assert load_problem(path) == load_problem(write(tmp_path, small()))


def test_click_command_rejects_a_time_limit_that_is_not_a_number(tmp_path: Path) -> None:
    path = str(write(tmp_path, small()))
    for value in ("nan", "inf"):
        result = CliRunner().invoke(solve_command, [path, "--time-limit", value])
        assert result.exit_code == 2 and "number of seconds" in result.output + result.stderr


def test_a_failed_write_to_stdout_names_stdout(tmp_path: Path) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    err = io.StringIO()
    code = run_solve(write(tmp_path, small()), time_limit=1, workers=1, stdout=Full(), stderr=err)
    assert code == 2
    assert err.getvalue() == "error: cannot write stdout: No space left on device\n"


def test_click_command_reports_the_same_error(tmp_path: Path) -> None:
    data = small()
    with_unknown_field(data)
    result = CliRunner().invoke(solve_command, [str(write(tmp_path, data))])
    assert result.exit_code == 2
    assert result.stderr.startswith('error: pairs[2].wieght: unknown field; did you mean "weight"?')
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_python_m_solver_prints_no_traceback(tmp_path: Path) -> None:
    data = small()
    with_unknown_id(data)
    done = subprocess.run(
        [sys.executable, "-m", "solver", "solve", str(write(tmp_path, data))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: pairs[4].b: unknown participant")
    assert "Traceback" not in done.stderr


# With the engine (solver.engine, written alongside): real solves, kept small and short.

FAST = ["--time-limit", "3", "--workers", "1", "--seed", "1"]


def test_solves_small_problem_and_writes_a_valid_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("solver.engine")
    out = tmp_path / "schedule.json"
    assert main(["solve", str(SMALL), "-o", str(out), *FAST]) == 0
    problem = load_problem(SMALL)
    schedule = load_schedule(out)
    assert schedule.status in ("OPTIMAL", "FEASIBLE")
    assert check(problem, schedule.meetings) == []
    assert schedule.objective == objective(problem, schedule.meetings)
    assert schedule.bound >= schedule.objective
    err = capsys.readouterr().err
    assert f"{len(schedule.meetings)} meetings, objective {schedule.objective}" in err
    assert "gap" in err


def test_schedule_goes_to_stdout_without_output(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("solver.engine")
    assert main(["solve", str(SMALL), *FAST]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "matchfair-schedule/1"


def test_impossible_must_pair_exits_1_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("solver.engine")
    data = small()
    # B002 is there only in the morning and S002 only in the afternoon.
    data["pairs"].append({"a": "B002", "b": "S002", "weight": 5, "must": True})
    out = tmp_path / "schedule.json"
    assert main(["solve", str(write(tmp_path, data)), "-o", str(out), *FAST]) == 1
    schedule = load_schedule(out)
    assert schedule.status == "INFEASIBLE"
    reasons = json.dumps(schedule.unscheduled_must, ensure_ascii=False)
    assert "B002" in reasons and "S002" in reasons
    err = capsys.readouterr().err
    assert err.startswith("INFEASIBLE")
    assert "B002–S002" in err or "S002–B002" in err


# Rare arguments and streams: one clear line and the documented exit status, never a
# traceback.


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        pytest.param("--seed", "2147483648", "must be at most 2147483647", id="seed"),
        pytest.param("--workers", "257", "must be at most 256", id="workers"),
    ],
)
def test_numbers_beyond_what_cp_sat_takes_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    path = str(write(tmp_path, small()))
    assert main(["solve", path, option, value]) == 2
    assert message in capsys.readouterr().err
    result = CliRunner().invoke(solve_command, [path, option, value])
    assert result.exit_code == 2 and "is not in the range" in result.stderr


def test_the_largest_seed_solves(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("solver.engine")
    assert (
        main(["solve", str(SMALL), "--time-limit", "2", "--workers", "1", "--seed", "2147483647"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["stats"]["seed"] == 2147483647


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param(
            '{"format": ' + "9" * 5000 + "}",
            "error: invalid JSON at line 1, column 12: an integer of 5,000 digits",
            id="long-integer",
        ),
        pytest.param(
            "[" * 100_000,
            "error: invalid JSON: lists and objects are nested too deeply",
            id="deep",
        ),
    ],
)
def test_json_python_cannot_hold_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, error: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(text, encoding="utf-8")
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(error) and err.count("\n") == 1


def test_an_empty_output_name_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write(tmp_path, small()))
    assert main(["solve", path, "-o", ""]) == 2
    assert capsys.readouterr().err == "error: --output: the file name is empty\n"
    result = CliRunner().invoke(solve_command, [path, "-o", ""])
    assert result.exit_code == 2
    assert result.stderr == "error: --output: the file name is empty\n"


def test_a_closed_stdout_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", None)  # what Python sets for `>&-`
    assert main(["solve", str(SMALL)]) == 2
    assert capsys.readouterr().err == "error: cannot write the schedule to stdout: it is closed\n"


def test_a_closed_stderr_keeps_the_summary_out_of_the_schedule(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("solver.engine")
    monkeypatch.setattr(sys, "stderr", None)  # `2>&-`: print(file=None) means stdout
    assert main(["solve", str(SMALL), *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "matchfair-schedule/1"


def test_a_write_to_stdout_that_fails_only_on_flush_is_reported(tmp_path: Path) -> None:
    class ClosedPipe(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    code = run_solve(
        write(tmp_path, small()), time_limit=1, workers=1, stdout=ClosedPipe(), stderr=err
    )
    assert code == 2
    assert err.getvalue() == "error: cannot write stdout: Broken pipe\n"


def test_python_m_solver_with_stdout_closed_prints_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "solver", "solve", str(write(tmp_path, small()))],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the schedule to stdout: it is closed\n"


# The one-line summary: plurals, and a cap on what it lists.


def test_summary_says_one_meeting_and_one_pair_in_the_singular() -> None:
    schedule = Schedule(
        status="OPTIMAL",
        objective=9,
        bound=9,
        solve_seconds=0.1,
        meetings=[Meeting("B1", "S1", "s1")],
        unscheduled=[UnscheduledPair("B1", "S2", "at_maximum", "")],
    )
    assert summary(schedule) == (
        "OPTIMAL: 1 meeting, objective 9, bound 9, gap 0.0% in 0.1 s, 1 requested pair left out"
    )


def test_summary_of_many_findings_says_each_once_and_counts_the_rest() -> None:
    crowded = "90 must meetings need a table with no host, but there are 7 such tables × 12 slots"
    findings = [
        {"a": f"C{i:03d}", "b": f"C{i + 1:03d}", "reason": "over_capacity", "detail": crowded}
        for i in range(90)
    ]
    findings += [
        {"a": f"B{i}", "b": f"S{i}", "reason": "no_common_slot", "detail": f"B{i} is away"}
        for i in range(7)
    ]
    findings.insert(0, {"a": "", "b": "", "reason": "max_breaks", "detail": "the cap"})
    schedule = Schedule(
        status="INFEASIBLE", objective=0, bound=0, solve_seconds=0.0, unscheduled_must=findings
    )
    line = summary(schedule)
    assert line == (
        "INFEASIBLE after 0.0 s: max_breaks (the cap); "
        f"over_capacity ({crowded}): C000–C001, C001–C002, C002–C003 and 87 more; "
        "B0–S0: no_common_slot (B0 is away); B1–S1: no_common_slot (B1 is away); "
        "B2–S2: no_common_slot (B2 is away); and 4 more findings in unscheduled_must"
    )
