"""The load and fault scenarios of bench/scenarios.py, short (`--quick`): 200 comments from
20 clients (every tenth double-clicked), the same with PostgreSQL restarted in the middle,
then their confirmation emails through a mail server that is down for 3 seconds.

They make and remove everything they use: a PostgreSQL cluster of their own on a free port
(never the shared one), gunicorn, the mail worker and an SMTP server. PostgreSQL runs only,
as root (pg_createcluster); about a minute and a half."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from bench.load import free_port

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def scenario_cluster():
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("the scenarios run in the PostgreSQL pass of the suite")
    if shutil.which("pg_createcluster") is None or os.geteuid() != 0:
        pytest.skip("needs Debian's pg_createcluster, as root")
    return {"name": "bbfault_test", "port": free_port()}


@pytest.mark.scenario
def test_comments_under_load_a_database_restart_and_a_mail_outage_lose_nothing(
    scenario_cluster, tmp_path
):
    figures = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            "bench/scenarios.py",
            "--quick",
            "--cluster",
            scenario_cluster["name"],
            "--port",
            str(scenario_cluster["port"]),
            "--json",
            str(figures),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    load, restart, mail = json.loads(figures.read_text())

    # 2: every comment stored once, every double click answered with the same comment.
    assert load["comments_stored"] == load["comments_acknowledged"] == 200
    assert load["stored_twice"] == 0 and load["error_answers"] == {}
    assert load["double_clicks_answered_alike"] == 20

    # 3: what was acknowledged is stored; errors only while the database was away.
    assert restart["acknowledged_but_not_stored"] == 0 and restart["stored_twice"] == 0
    assert restart["comments_stored"] == 200
    assert restart["errors_after_recovery"] == 0
    assert restart["seconds_to_recover"] is not None and restart["seconds_to_recover"] < 10

    # 5: every confirmation email delivered once the mail server is back, none twice.
    assert mail["emails_queued"] == 400 and mail["queued_while_down"] == 400
    assert mail["emails_delivered"] == 400 and mail["emails_delivered_twice"] == 0
    assert mail["emails_left_in_queue"] == 0
    assert not Path(f"/etc/postgresql/15/{scenario_cluster['name']}").exists()
