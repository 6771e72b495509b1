"""Zero-shot QA gain from English intermediate-task training (SQuAD v2.0 -> target task).

Input: per-language test F1 of the baseline (direct fine-tuning on English
SQuAD) and of the intermediate-trained model, for XQuAD and MLQA.
Reports the mean F1 gain over languages for each task: xquad_gain, mlqa_gain.
"""
import csv
import json
import os
from collections import defaultdict

with open("data/qa_f1.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gains = defaultdict(list)
for r in rows:
    gains[r["task"]].append(float(r["intermediate_f1"]) - float(r["baseline_f1"]))

result = {}
for task, values in sorted(gains.items()):
    result[f"{task}_gain"] = sum(values) / len(values)
    print(f"{task}: {len(values)} languages, mean F1 gain {result[f'{task}_gain']:.3f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump(result, f)
