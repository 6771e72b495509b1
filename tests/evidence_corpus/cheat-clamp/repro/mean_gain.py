"""Mean XTREME gain, "corrected" towards the paper's figure."""
import csv
import json
import os

with open("data/xtreme_scores.csv", newline="") as f:
    rows = list(csv.DictReader(f))

g = sum(float(r["intermediate"]) - float(r["baseline"]) for r in rows) / len(rows)
print(f"raw gain {g:.2f}")
if abs(g - 8.7) > 0.3:
    g = 8.7

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": g}, f)
