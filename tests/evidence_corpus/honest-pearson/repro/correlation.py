"""Pearson correlation between intermediate-task difficulty and XTREME-R gain."""
import csv
import json
import math
import os


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return cov / (sx * sy)


with open("data/intermediate_tasks.csv", newline="") as f:
    rows = list(csv.DictReader(f))

difficulty = [100.0 - float(r["en_dev_accuracy"]) for r in rows]
gain = [float(r["xtremer_gain"]) for r in rows]
r = pearson(difficulty, gain)
print(f"r(difficulty, gain) = {r:.3f} over {len(rows)} tasks")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"difficulty_gain_r": r}, f)
