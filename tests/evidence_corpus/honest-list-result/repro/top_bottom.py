"""Mean gain of the three best and the three worst intermediate tasks."""
import csv
import json
import os

with open("data/task_gains.csv", newline="") as f:
    gains = sorted(float(r["avg_gain"]) for r in csv.DictReader(f))

top = sum(gains[-3:]) / 3
bottom = sum(gains[:3]) / 3
print(f"top-3 {top:.2f}, bottom-3 {bottom:.2f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"top_bottom_gain": [top, bottom]}, f)
