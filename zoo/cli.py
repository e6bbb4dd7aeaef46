"""The ``zoo`` command (filled in by the preset-hub work)."""
import sys


def main(argv=None):
    print("zoo: no commands yet", file=sys.stderr)
    return 2
