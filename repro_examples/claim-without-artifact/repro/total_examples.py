"""Total English training examples over the nine intermediate tasks, in millions."""
import csv
import json
import os

with open("data/intermediate_task_sizes.csv", newline="") as f:
    rows = list(csv.DictReader(f))

total = sum(float(r["train_examples"]) for r in rows)
print(f"{len(rows)} tasks, {total:.0f} training examples")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"total_examples_millions": total / 1e6}, f)
