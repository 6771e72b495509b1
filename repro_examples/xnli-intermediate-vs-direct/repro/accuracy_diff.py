"""XNLI zero-shot accuracy: English intermediate-task training vs direct fine-tuning.

Reads the per-language test accuracies of the two set-ups and reports
  mean_diff            mean over languages of (intermediate - direct), in points
  languages_improved   how many languages the intermediate set-up improves
"""
import csv
import json
import os

with open("data/xnli_accuracy.csv", newline="") as f:
    rows = list(csv.DictReader(f))

diffs = {r["language"]: float(r["intermediate"]) - float(r["direct"]) for r in rows}
mean_diff = sum(diffs.values()) / len(diffs)
improved = sum(1 for d in diffs.values() if d > 0)

for lang, d in diffs.items():
    print(f"{lang:>3} {d:+.1f}")
print(f"{len(diffs)} languages, mean difference {mean_diff:+.3f}, improved on {improved}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean_diff": mean_diff, "languages_improved": improved}, f)
