"""XQuAD F1 gain per language: mean, largest and smallest."""
import csv
import json
import os

with open("data/xquad_f1.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gains = [float(r["intermediate_f1"]) - float(r["baseline_f1"]) for r in rows]
mean_gain = sum(gains) / len(gains)
max_gain = max(gains)
min_gain = min(gains)
print(f"mean {mean_gain:.2f}, max {max_gain:.1f}, min {min_gain:.1f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean_gain": mean_gain, "max_gain": max_gain, "min_gain": min_gain}, f)
