"""Runs the per-benchmark script and collects its output."""
import json
import os
import subprocess
import sys

done = subprocess.run([sys.executable, "repro/compute_gain.py"], capture_output=True,
                      text=True, check=True)
gain = float(done.stdout.strip().splitlines()[-1])

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
