"""Short versions of the load and fault scenarios (bench/faults.py), on servers of their own:
a private PostgreSQL cluster (bbfault9, port 5438) created and dropped here, a private
redis-server, and gunicorn with 2 workers. Marked `fault`: `-m "not fault"` leaves them out.

- soak: the home page and a post at saturation: no errors, no worker memory growth;
- PostgreSQL stopped under load: every answer a fast 503 with our page, then pages again
  within seconds of the cluster's return, with no restart of the app;
- Redis stopped and started under load (the page cache in it): no errors before, during or
  after, and the cache serves hits again.
"""

import os

import pytest

from bench import faults

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def site():
    if not faults.PrivatePostgres.available() or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the fault scenarios need pg_createcluster and root (Debian's postgresql)")
        pytest.skip("needs pg_createcluster and root to run a private PostgreSQL cluster")
    with faults.PrivatePostgres() as cluster:
        paths = faults.prepare_site(cluster.url)
        yield cluster, paths


def test_soak_serves_every_request_and_workers_do_not_grow(site):
    cluster, paths = site
    report = faults.soak(cluster.url, paths, seconds=20, connections=8, windows=2)
    assert report["requests"] > 50
    assert report["errors"] == 0, report["windows"]
    assert report["gunicorn_alive"] and not report["workers_replaced"]
    assert all(growth < 25 for growth in report["rss_growth_mib"].values()), report


def test_postgresql_down_is_a_fast_503_and_service_recovers_by_itself(site):
    cluster, paths = site
    report = faults.postgres_restart(cluster, paths, before=2, down=4, after=15, concurrency=4)
    down = report["database down"]
    assert down["requests"] > 5
    assert set(down["errors"]) <= {"503"}, down  # our page, with Retry-After; nothing else
    assert down["slowest_ms"] < 5000, down  # fail fast: never a hang
    assert report["recovery_seconds"] is not None and report["recovery_seconds"] < 10, report
    assert report["after the first success"]["errors"] == {}, report
    assert report["gunicorn_alive"]


def test_redis_stopped_and_started_under_load_costs_no_request(site):
    cluster, paths = site
    report = faults.redis_restart(cluster.url, paths, before=2, down=4, after=4, concurrency=4)
    for phase in ("before", "redis down", "after restart"):
        assert report[phase]["requests"] > 0, phase
        assert report[phase]["errors"] == {}, (phase, report[phase])
    assert report["page cache hit after restart"]
