"""How many XNLI languages intermediate training improves."""
import csv
import json
import os

with open("data/xnli_accuracy.csv", newline="") as f:
    rows = list(csv.DictReader(f))

improved = 0
for r in rows:
    if float(r["intermediate"]) > float(r["direct"]):
        improved += 1
print(f"improved on {improved} of {len(rows)} languages")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"languages_improved": improved}, f)
