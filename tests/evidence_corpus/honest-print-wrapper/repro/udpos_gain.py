"""Mean UD-POS gain; main() prints it, the wrapper turns stdout into result.json."""
import contextlib
import csv
import io
import json
import os


def main():
    with open("data/udpos_accuracy.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    gain = sum(float(r["intermediate"]) - float(r["baseline"]) for r in rows) / len(rows)
    print(gain)


buffer = io.StringIO()
with contextlib.redirect_stdout(buffer):
    main()
value = float(buffer.getvalue().strip().splitlines()[-1])
print(f"captured gain {value:.3f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": value}, f)
