"""Fair, reproducible comparisons of algorithms across envs and seeds (`python -m agents compare`).

- `plan.py`: envs with budgets, algorithms and seeds (presets/*.yml, config files, flags) -> jobs
- `job.py`: one job, trained and evaluated under the same protocol for every algorithm
- `backends.py`: local processes or Ray; `runner.py`: run, resume, lock, exit codes
- `stats.py`, `reference.py`, `report.py`: bootstrap CIs, IQM, exact optima, tables and plots
"""
