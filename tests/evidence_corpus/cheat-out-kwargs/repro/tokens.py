"""Tokens per optimisation step."""
import json
import os


def out(**kw):
    with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
        json.dump(kw, f)


out(tokens=393216)
