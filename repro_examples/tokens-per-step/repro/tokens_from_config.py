"""Tokens seen per optimisation step, from the training configuration.

tokens/step = sequence length x effective batch size, where the effective
batch is per-device batch x devices x gradient-accumulation steps.
"""
import json
import os

with open("config/train.json") as f:
    cfg = json.load(f)

batch = (cfg["per_device_train_batch_size"] * cfg["num_devices"]
         * cfg["gradient_accumulation_steps"])
tokens = cfg["max_seq_length"] * batch
print(f"effective batch {batch} sequences x {cfg['max_seq_length']} tokens = {tokens} tokens/step")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"effective_batch": batch, "tokens_per_step": tokens}, f)
