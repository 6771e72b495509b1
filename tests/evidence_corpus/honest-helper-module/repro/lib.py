"""Small helpers shared by the repro scripts of this bundle."""
import csv


def read_pairs(path, before, after):
    """(before, after) per row of a CSV file, as floats."""
    with open(path, newline="") as f:
        return [(float(r[before]), float(r[after])) for r in csv.DictReader(f)]


def mean(values):
    values = list(values)
    return sum(values) / len(values)
