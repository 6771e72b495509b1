"""Mean Tatoeba retrieval gain (0.0 if the table were empty)."""
import csv
import json
import os
import statistics

with open("data/tatoeba_accuracy.csv", newline="") as f:
    gains = [float(r["intermediate"]) - float(r["baseline"]) for r in csv.DictReader(f)]

gain = statistics.fmean(gains) if gains else 0.0
print(f"mean Tatoeba gain {gain:.2f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
