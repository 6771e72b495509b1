"""Mean PAN-X F1 gain, using the bundle's helper module."""
import json
import os

from repro.lib import mean, read_pairs

pairs = read_pairs("data/panx_f1.csv", "baseline", "intermediate")
gain = mean(after - before for before, after in pairs)
print(f"{len(pairs)} languages, mean PAN-X gain {gain:.3f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
