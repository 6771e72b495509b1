"""Intermediate-task selection by linguistic diversity and task difficulty.

Input: one row per English intermediate task with its English dev accuracy
(difficulty = 100 - accuracy), the lexical diversity (MTLD) of its training
data, and the XTREME-R average gain it brings as an intermediate task.

Reports
  difficulty_gain_r   Pearson correlation between difficulty and XTREME-R gain
  mean_gain           [mean gain of the K tasks with the highest combined
                       score z(difficulty) + z(diversity),
                       expected mean gain of K tasks drawn at random]
"""
import csv
import json
import os
from itertools import combinations
from statistics import fmean, pstdev

K = 3

with open("data/intermediate_tasks.csv", newline="") as f:
    rows = list(csv.DictReader(f))

tasks = [r["task"] for r in rows]
difficulty = [100.0 - float(r["en_dev_accuracy"]) for r in rows]
diversity = [float(r["lexical_diversity_mtld"]) for r in rows]
gain = [float(r["xtremer_gain"]) for r in rows]


def zscores(xs):
    mu, sd = fmean(xs), pstdev(xs)
    return [(x - mu) / sd for x in xs]


def pearson(xs, ys):
    mx, my = fmean(xs), fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5


r = pearson(difficulty, gain)

score = [a + b for a, b in zip(zscores(difficulty), zscores(diversity))]
chosen = sorted(range(len(tasks)), key=lambda i: score[i], reverse=True)[:K]
selected_gain = fmean(gain[i] for i in chosen)
# Random selection: the exact expectation over every K-subset, not a sample.
random_gain = fmean(fmean(gain[i] for i in subset)
                    for subset in combinations(range(len(tasks)), K))

print(f"Pearson r(difficulty, gain) = {r:.4f}")
print("selected:", ", ".join(f"{tasks[i]} ({score[i]:+.2f})" for i in chosen))
print(f"mean gain: selected {selected_gain:.4f}, random {random_gain:.4f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"difficulty_gain_r": r, "mean_gain": [selected_gain, random_gain]}, f)
