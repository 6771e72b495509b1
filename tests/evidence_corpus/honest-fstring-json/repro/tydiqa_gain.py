"""Mean TyDiQA-GoldP F1 gain; writes result.json by hand."""
import csv
import os

with open("data/tydiqa_f1.csv", newline="") as f:
    rows = list(csv.DictReader(f))

gain = sum(float(r["intermediate_f1"]) - float(r["baseline_f1"]) for r in rows) / len(rows)

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    f.write(f'{{"gain": {gain}}}')
