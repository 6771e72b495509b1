"""Tokens per step from the paper's two constants: 128-token sequences, batches of 3072."""
import json
import os

SEQUENCE_LENGTH = 128
BATCH_SIZE = 3072

tokens = SEQUENCE_LENGTH * BATCH_SIZE
print(f"{SEQUENCE_LENGTH} x {BATCH_SIZE} = {tokens}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"tokens_per_step": tokens}, f)
