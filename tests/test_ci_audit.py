"""The supply-chain step (.ci/audit.py) fails the build on a finding in pip-audit's report, and
never calls a run that audited nothing a pass."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "ci_audit", Path(__file__).resolve().parent.parent / ".ci" / "audit.py"
)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"name": "bleach", "version": "6.4.0", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "5.2.0",
    "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"], "description": "SQL injection"}],
}
SKIPPED = {"name": "pillow", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def test_a_known_vulnerability_fails_the_build_and_names_the_fix():
    status, lines = audit.judge([{"dependencies": [CLEAN, VULNERABLE]}], required=False)
    assert status == 1
    assert any("django 5.2.0: PYSEC-2025-1 (fixed in 5.2.1)" in line for line in lines)


def test_a_clean_audit_passes():
    status, lines = audit.judge([{"dependencies": [CLEAN]}], required=False)
    assert status == 0
    assert "1 pinned requirements audited, no known vulnerabilities" in lines[0]


def test_a_partial_audit_is_not_a_pass():
    status, _ = audit.judge([{"dependencies": [CLEAN, SKIPPED]}], required=False)
    assert status == 1


def test_an_audit_that_reached_no_advisory_service_warns_and_fails_when_required():
    status, lines = audit.judge([{"dependencies": [SKIPPED]}], required=False)
    assert status == 0 and "NOTHING WAS AUDITED" in lines[0]
    assert audit.judge([{"dependencies": [SKIPPED]}], required=True)[0] == 1
