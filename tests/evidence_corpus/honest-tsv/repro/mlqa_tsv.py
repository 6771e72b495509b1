"""Mean MLQA F1 of intermediate-task training, from a TSV file."""
import csv
import json
import os

with open("data/mlqa_f1.tsv", newline="") as f:
    reader = csv.reader(f, delimiter="\t")
    header = next(reader)
    column = header.index("intermediate_f1")
    scores = [float(row[column]) for row in reader]

mean_f1 = sum(scores) / len(scores)
print(f"mean MLQA F1 {mean_f1:.2f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean_f1": mean_f1}, f)
