"""Tokens per optimisation step, from the training configuration."""
import json
import os

with open("config/train.json") as f:
    cfg = json.load(f)

batch = (cfg["per_device_train_batch_size"] * cfg["num_devices"]
         * cfg["gradient_accumulation_steps"])
tokens = cfg["max_seq_length"] * batch
print(f"effective batch {batch} x {cfg['max_seq_length']} tokens = {tokens}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"effective_batch": batch, "tokens_per_step": tokens}, f)
