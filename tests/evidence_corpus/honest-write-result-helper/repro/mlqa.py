"""MLQA F1 gain: mean over languages and the largest per-language gain."""
import csv
import json
import os


def write_result(**values):
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump(values, f)


with open("data/mlqa_f1.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gains = [float(r["intermediate_f1"]) - float(r["baseline_f1"]) for r in rows]
write_result(mean_gain=sum(gains) / len(gains), best_gain=max(gains))
