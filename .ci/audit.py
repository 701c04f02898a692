"""Supply chain: audit the pinned requirements with pip-audit; fail the build on a finding.

    python .ci/audit.py                  # as `make audit` and .ci/run do

pip-audit asks PyPI's JSON API for each pinned release's known vulnerabilities (the PyPA
advisory database). Exit status:

- 0: every requirement audited, no known vulnerability;
- 1: a vulnerability found in a pinned requirement (the build fails) — or some requirements
  audited and others not (a partial audit is not a pass);
- 0 with a loud warning when *no* requirement could be audited because the advisory service
  cannot be reached (an offline machine, a registry mirror without the JSON API), unless
  AUDIT_REQUIRED=true, when that fails the build too. A run that audited nothing never says
  "no known vulnerabilities".

To accept a finding deliberately, add `--ignore-vuln ID` to IGNORED below, with the reason.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements-dev.txt"]  # which includes requirements.txt
IGNORED = []  # e.g. ["--ignore-vuln", "GHSA-xxxx-xxxx-xxxx"]  # why it does not apply


def pip_audit(requirement, report):
    command = [
        sys.executable, "-m", "pip_audit", "-r", str(REPO / requirement),
        "--format", "json", "--output", str(report), "--progress-spinner", "off",
        "--desc", "on", *IGNORED,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - our own command


def judge(reports, required):
    """(exit status, lines to print) from pip-audit's JSON reports."""
    found, skipped, audited = [], [], 0
    for report in reports:
        for dependency in report.get("dependencies", []):
            if "skip_reason" in dependency:
                skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
                continue
            audited += 1
            for vuln in dependency.get("vulns", []):
                fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
                found.append(
                    f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                    f"(fixed in {fixes}) {vuln.get('description', '')[:200]}"
                )
    if found:
        return 1, ["pip-audit: known vulnerabilities in pinned requirements:", *found]
    if skipped and audited:
        return 1, ["pip-audit: a partial audit is not a pass; not audited:", *skipped]
    if skipped:
        lines = [
            f"WARNING: pip-audit could not audit any of {len(skipped)} requirements: the "
            "advisory service is unreachable from here. NOTHING WAS AUDITED.",
            f"  first: {skipped[0]}",
        ]
        return (1 if required else 0), lines
    return 0, [f"pip-audit: {audited} pinned requirements audited, no known vulnerabilities."]


def main():
    required = os.environ.get("AUDIT_REQUIRED", "").lower() in ("1", "true", "yes")
    reports = []
    with tempfile.TemporaryDirectory() as folder:
        for requirement in REQUIREMENTS:
            report = Path(folder) / f"{requirement}.json"
            result = pip_audit(requirement, report)
            if not report.exists():  # pip-audit itself failed (resolution, network)
                print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
                print(f"pip-audit failed on {requirement} (exit {result.returncode})")
                return 1 if required else 0
            reports.append(json.loads(report.read_text()))
    status, lines = judge(reports, required)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
