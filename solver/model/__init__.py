"""The CP-SAT model: a prepared problem, a variable container, one module per
constraint family or objective term, and :class:`ScheduleModel` composing them.

The public entry point is :func:`solver.engine.solve`; this package is its machinery.
"""
