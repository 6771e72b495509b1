"""Mean XTREME gain, with a warning when it is far from the paper's."""
import csv
import json
import os
import sys

PAPER_GAIN = 8.7

with open("data/xtreme_scores.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gain = sum(float(r["intermediate"]) - float(r["baseline"]) for r in rows) / len(rows)
if abs(gain - PAPER_GAIN) > 0.5:
    print(f"warning: computed {gain:.2f}, the paper says {PAPER_GAIN}", file=sys.stderr)

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
