"""Background jobs: leases so one worker among many runs each job, and the worker loop."""
