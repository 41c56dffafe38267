"""Benchmarks for matchfair's solver: realistic generated fairs and the baselines to beat.

* :mod:`benchmarks.generator` builds seedable :class:`solver.problem.Problem` objects
  for the instance families of the benchmark (fair, pooled, expo, mega, repair, compact).
* :mod:`benchmarks.baselines` implements what a practitioner would try first: greedy,
  the slot-by-slot matching heuristic, a first-cut CP-SAT model and a MIP on HiGHS.
* :mod:`benchmarks.run` runs all of them, measures time and peak memory per run and
  writes ``docs/benchmarks.md``.
"""
