"""The benchmark of Barnet Blog's public pages: see bench/README.md and bench/run.py."""
