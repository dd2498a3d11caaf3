"""Big documents rendered by a job queue (docs/jobs.md): the jobs table on SQLite, procrastinate on PostgreSQL.

`queue_depth()` is the number of jobs waiting for a worker, for the metrics endpoint.
"""

from fundsvc.jobs.service import queue_depth

__all__ = ["queue_depth"]
