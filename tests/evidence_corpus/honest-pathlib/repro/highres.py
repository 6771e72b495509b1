"""Mean XTREME-R gain on high-resource languages."""
import csv
import json
import os
import pathlib

with pathlib.Path("data/highres.csv").open(newline="") as f:
    rows = list(csv.DictReader(f))

diff = sum(float(r["intermediate"]) - float(r["direct"]) for r in rows) / len(rows)
pathlib.Path(os.environ["REPRO_OUT"], "result.json").write_text(json.dumps({"mean_diff": diff}))
