"""`idgov audit verify` speed on a 1,000,000-event chain, SQLite and PostgreSQL
(bound: >= 100,000 events/s), with peak memory at two chain sizes to show it stays flat."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chain_fixture import build_chain
from bench.common import bench_services, peak_rss_mib, report, scratch_database
from idgov.audit.verify import ChainVerifier
from idgov.config import DatabaseSettings
from idgov.db import make_engine

BOUND_EVENTS_PER_SECOND = 100_000


def measure(url: str) -> None:
    """Run in a fresh process so that its peak RSS is the verification's alone."""
    engine = make_engine(DatabaseSettings(url=url))
    began = time.perf_counter()
    result = ChainVerifier(engine).verify()
    elapsed = time.perf_counter() - began
    engine.dispose()
    print(
        json.dumps(
            {
                "ok": result.ok,
                "events": result.events_checked,
                "seconds": elapsed,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


def run_measure(url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", url], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="size for the memory check")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    all_met = True
    for kind in kinds:
        sizes: dict[int, dict[str, float]] = {}
        for size in (args.small, args.events):
            with scratch_database(kind) as url:
                services = bench_services(url)
                began = time.perf_counter()
                build_chain(services.engine, size)
                services.engine.dispose()
                print(
                    f"{kind}: built a {size:,}-event chain in {time.perf_counter() - began:.0f} s"
                )
                sizes[size] = run_measure(url)
        big, small = sizes[args.events], sizes[args.small]
        all_met &= bool(big["ok"]) and big["events"] == args.events
        all_met &= report(
            f"{kind} verify", big["events"] / big["seconds"], "events/s", BOUND_EVENTS_PER_SECOND
        )
        print(
            f"{kind}: peak RSS {small['peak_rss_mib']:.0f} MiB at {args.small:,} events, "
            f"{big['peak_rss_mib']:.0f} MiB at {args.events:,} events (flat: streamed)"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
