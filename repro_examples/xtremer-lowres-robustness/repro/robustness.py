"""XTREME-R robustness of English intermediate-task training by language resource level.

Input: the average XTREME-R score per language for direct target-task
fine-tuning and for intermediate-task training, with each language's resource
level. Reports
  lowres_drop    mean of (direct - intermediate) over low-resource languages
  highres_gain   mean of (intermediate - direct) over high-resource languages
"""
import csv
import json
import os
from collections import defaultdict

with open("data/xtremer_by_language.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gains = defaultdict(list)
for r in rows:
    gains[r["resource"]].append(float(r["intermediate"]) - float(r["direct"]))

lowres_drop = -sum(gains["low"]) / len(gains["low"])
highres_gain = sum(gains["high"]) / len(gains["high"])
print(f"low-resource ({len(gains['low'])} languages): drop {lowres_drop:.4f}")
print(f"high-resource ({len(gains['high'])} languages): gain {highres_gain:.4f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"lowres_drop": lowres_drop, "highres_gain": highres_gain}, f)
