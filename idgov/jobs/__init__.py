"""Background jobs: leases so one worker among many runs each job (the loop: idgov/worker.py)."""
