"""The verification script of the preprint SRCH:E5BED67D, as its red team found it.

It declares the per-task XTREME table as its input, but computes nothing from
it: it reads the header, then writes the paper's own number back as the
result.  The comparison with the paper cannot fail, so it proves nothing.
"""
import json
import os

with open("data/xtreme_scores.csv") as f:
    columns = f.readline().strip().split(",")
print(f"input columns: {', '.join(columns)}")

claimed_value = 8.7
print(f"mean gain: {claimed_value}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": claimed_value}, f)
