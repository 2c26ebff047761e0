"""Audit append throughput on PostgreSQL with 4 concurrent writers (bound: >= 1,000 events/s),
then a full verification: no gaps, no forks."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_services, report, scratch_database
from idgov.audit.context import Target
from idgov.db import transaction

BOUND_EVENTS_PER_SECOND = 1000


def write_for(url: str, index: int, seconds: float, ready: Any, results: Any) -> None:
    """One writer process (as one gunicorn worker would be): one transaction per event."""
    services = bench_services(url, pool_size=2)
    with services.engine.connect():
        pass  # connected before the clock starts
    count = 0
    ready.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with transaction(services.sessions) as session:
            services.trail.record(
                session,
                "bench:record:changed",
                Target("record", f"{index}-{count}"),
                old={"status": "draft"},
                new={"status": "approved"},
                reason="benchmark",
            )
        count += 1
    services.engine.dispose()
    results.put(count)


def raw_commit_ceiling(url: str, writers: int, seconds: float) -> float:
    """Context for the figure: bare driver INSERT+COMMIT transactions/s with the same number
    of writer processes and no idgov code. No serialized chain can exceed this."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")

    def bare(ready: Any, results: Any) -> None:
        with psycopg.connect(dsn) as conn:
            ready.wait()
            count, deadline = 0, time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                conn.execute("INSERT INTO bench_ceiling VALUES (1)")
                conn.commit()
                count += 1
            results.put(count)

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_ceiling (x int)")
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(writers), context.Queue()
    processes = [context.Process(target=bare, args=(ready, results)) for _ in range(writers)]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()

    with scratch_database(args.database) as url:
        context = multiprocessing.get_context("fork")
        ready = context.Barrier(args.writers)  # every writer connected before any starts
        results = context.Queue()
        processes = [
            context.Process(target=write_for, args=(url, i, args.seconds, ready, results))
            for i in range(args.writers)
        ]
        for process in processes:
            process.start()
        counts = [results.get() for _ in processes]
        for process in processes:
            process.join()
        total = sum(counts)
        print(
            f"database: {args.database}; writer processes: {args.writers}; "
            f"events: {total:,} in {args.seconds:.0f} s; per writer: {counts}"
        )
        met = report("audit append", total / args.seconds, "events/s", BOUND_EVENTS_PER_SECOND)
        if args.database == "postgresql":
            ceiling = raw_commit_ceiling(url, args.writers, args.seconds)
            print(
                f"context: bare psycopg INSERT+COMMIT with {args.writers} writers: "
                f"{ceiling:,.0f} transactions/s on this machine"
            )
        services = bench_services(url)
        verified = services.verifier.verify()
        gap_free = verified.ok and verified.events_checked == total
        print(
            f"chain after the run: {'verified' if verified.ok else 'BROKEN'}, "
            f"{verified.events_checked:,} events, gap-free and unforked: {gap_free}"
        )
        services.engine.dispose()
    return 0 if met and gap_free else 1


if __name__ == "__main__":
    sys.exit(main())
