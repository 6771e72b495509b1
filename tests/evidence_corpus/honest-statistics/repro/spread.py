"""Median and spread of the per-language XNLI gain from intermediate training."""
import csv
import json
import os
import statistics

with open("data/xnli_accuracy.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gains = [float(r["intermediate"]) - float(r["direct"]) for r in rows]
median_gain = statistics.median(gains)
stdev_gain = statistics.stdev(gains)
print(f"median {median_gain:+.2f}, stdev {stdev_gain:.3f} over {len(gains)} languages")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"median_gain": median_gain, "stdev_gain": stdev_gain}, f)
