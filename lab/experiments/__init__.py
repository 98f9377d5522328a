"""One standalone script per lab: `python -m lab.experiments.NAME --help`."""
