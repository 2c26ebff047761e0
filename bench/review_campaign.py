"""Access reviews at scale (PostgreSQL): a campaign over 100,000 identities with 10 entitlements
each (1,000,000 items) starts in under 5 minutes; a bulk decision on 1,000 items takes under 2 s.

The population is loaded with COPY (not timed); the start is one transaction through the
CampaignService, as an administrator or the worker's schedule would run it.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.common import bench_services, peak_rss_mib, report, scratch_database
from idgov.app import create_app
from idgov.db import transaction
from idgov.identity.models import Identity
from idgov.reviews.campaigns.definition import NewDefinition
from idgov.reviews.models import ReviewItem
from idgov.wiring import Services
from tests.functional.people import login

START_BOUND = 300.0  # seconds
BULK_BOUND = 2.0  # seconds
INBOX_BOUND = 0.300  # seconds
INBOX_PASSWORD = "Bench-Inbox-Password-7"
BIG_TEAM = 100  # reports of one manager: 100 x 10 entitlements = 1,000 items for one reviewer


def load(services: Services, people: int, per_person: int, roles: int) -> tuple[str, str]:
    """COPY the population in: identities (every tenth a manager of the next nine, the first
    BIG_TEAM reporting to one manager), system roles, and `per_person` grants each. Returns
    the fallback administrator's id and the big team's manager's id."""
    now = datetime.now(UTC)
    rng = random.Random(7)
    ids = [str(uuid.uuid4()) for _ in range(people + 2)]
    admin, big_manager = ids[-2], ids[-1]
    raw = services.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(
            "COPY identities (id, username, printed_name, email, manager_id, status, provider, "
            "failed_attempts, attempts_while_locked, last_login_at, created_at, "
            "status_changed_at) FROM STDIN"
        ) as copy:
            for n, identity in enumerate(ids):
                if identity == admin:
                    manager = None
                elif identity == big_manager or n < BIG_TEAM:
                    manager = big_manager if identity != big_manager else admin
                else:
                    manager = ids[(n // 10) * 10] if n % 10 else admin
                login = None if n % 20 == 0 else now - timedelta(days=rng.randint(0, 60))
                name = f"u{n:06d}"
                copy.write_row(
                    (
                        identity,
                        name,
                        f"Person {n}",
                        f"{name}@example.com",
                        manager,
                        "active",
                        "local",
                        0,
                        0,
                        login,
                        now,
                        now,
                    )
                )
        cursor.execute(
            "INSERT INTO identity_roles (identity_id, role) VALUES (%s, 'admin')", (admin,)
        )
        # Reviewers must be able to sign: everyone has recorded the certification (TRN-1).
        with cursor.copy(
            "COPY signature_certifications (identity_id, certified_at, statement, method) "
            "FROM STDIN"
        ) as copy:
            for identity in ids:
                copy.write_row((identity, now, "bench certification", "bench"))
        entitlements = [str(uuid.uuid4()) for _ in range(roles)]
        with cursor.copy(
            "COPY entitlements (id, source_type, source, key, name, description, owner_id, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for n, entitlement in enumerate(entitlements):
                system = f"sys{n % 10:02d}"
                copy.write_row(
                    (
                        entitlement,
                        "system-role",
                        system,
                        f"role-{n}",
                        f"role-{n}",
                        f"Role {n} of {system}",
                        rng.choice(ids[:people]),
                        now,
                        now,
                    )
                )
        with cursor.copy(
            "COPY entitlement_grants (entitlement_id, identity_id, account, granted_at) FROM STDIN"
        ) as copy:
            for n, identity in enumerate(ids[:people]):
                for entitlement in rng.sample(entitlements, per_person):
                    copy.write_row((entitlement, identity, f"u{n:06d}", now))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return admin, big_manager


def start_campaign(services: Services, admin: str) -> tuple[str, float, int]:
    begun = time.perf_counter()
    with transaction(services.sessions) as session:
        definition = services.campaigns.define(
            session,
            NewDefinition(
                name="Quarterly GxP access review",
                scope={"all": True},
                reviewer_rule="manager",
                fallback_reviewer_id=admin,
            ),
            created_by="bench",
        )
        campaign = services.campaigns.draft(session, definition.id, "bench")
        services.campaigns.start(session, campaign)
        campaign_id, items = campaign.id, campaign.item_count
    return campaign_id, time.perf_counter() - begun, items


def inbox_render(
    services: Services, campaign_id: str, reviewer_id: str
) -> tuple[float, float, int]:
    """Median and slowest of 20 renders of the reviewer's inbox page (1,000 items), signed in
    through the login form, as the browser gets it."""
    with transaction(services.sessions) as session:
        reviewer = session.get(Identity, reviewer_id)
        assert reviewer is not None
        services.passwords.set_initial(session, reviewer, INBOX_PASSWORD)
        username = reviewer.username
    client = create_app(services=services).test_client()
    answer = login(client, username, INBOX_PASSWORD)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    page = client.get(f"/reviews/{campaign_id}")
    assert page.status_code == 200, page.status_code
    shown = page.get_data(as_text=True).count('name="item"')
    times = []
    for _ in range(20):
        begun = time.perf_counter()
        client.get(f"/reviews/{campaign_id}").get_data()
        times.append(time.perf_counter() - begun)
    return statistics.median(times), max(times), shown


def bulk_decide(services: Services, campaign_id: str, reviewer_id: str) -> tuple[float, int]:
    with services.sessions() as session:
        ids = list(
            session.scalars(
                select(ReviewItem.id).where(
                    ReviewItem.campaign_id == campaign_id, ReviewItem.reviewer_id == reviewer_id
                )
            )
        )[:1000]
    begun = time.perf_counter()
    with transaction(services.sessions) as session:
        reviewer = session.get(Identity, reviewer_id)
        assert reviewer is not None
        services.decisions.decide(session, reviewer, ids, "certify", "still needed for QC")
    return time.perf_counter() - begun, len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--per-person", type=int, default=10)
    parser.add_argument("--roles", type=int, default=1_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "IDGOV_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL server; the bench creates and drops a database of its own there",
    )
    args = parser.parse_args()
    print(f"environment: Python {platform.python_version()}, {os.cpu_count()} CPUs, PostgreSQL")
    with scratch_database("postgresql", args.database_url) as url:
        services = bench_services(url)
        try:
            began = time.perf_counter()
            admin, big_manager = load(services, args.people, args.per_person, args.roles)
            grants = args.people * args.per_person
            print(
                f"loaded {args.people:,} identities, {grants:,} grants with COPY in "
                f"{time.perf_counter() - began:.1f} s"
            )
            campaign_id, seconds, items = start_campaign(services, admin)
            print(
                f"campaign started: {items:,} items in {seconds:.1f} s "
                f"({items / seconds:,.0f} items/s); peak RSS {peak_rss_mib():.0f} MiB"
            )
            ok = report("campaign start", seconds, "s", START_BOUND, higher_is_better=False)
            median, slowest, shown = inbox_render(services, campaign_id, big_manager)
            print(
                f"inbox: {shown:,} items, median {median * 1000:.0f} ms, "
                f"slowest {slowest * 1000:.0f} ms of 20"
            )
            ok &= report("inbox render (median)", median * 1000, "ms", INBOX_BOUND * 1000, False)
            took, decided = bulk_decide(services, campaign_id, big_manager)
            print(f"bulk decision: {decided:,} items in {took:.2f} s")
            ok &= report("bulk decision of 1,000 items", took, "s", BULK_BOUND, False)
        finally:
            services.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
