"""Mean XTREME score of the baseline and of intermediate-task training."""
import csv
import json
import os

with open("data/xtreme_scores.csv", newline="") as f:
    rows = list(csv.DictReader(f))

result = {}
for key, column in (("mean_baseline", "baseline"), ("mean_intermediate", "intermediate")):
    result[key] = sum(float(r[column]) for r in rows) / len(rows)
    print(f"{key}: {result[key]:.2f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump(result, f)
