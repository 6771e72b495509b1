"""Mean XQuAD F1 over all languages and seeds, from a JSON Lines run log."""
import json
import os

with open("data/xquad_runs.jsonl") as f:
    runs = [json.loads(line) for line in f if line.strip()]

mean_f1 = sum(run["f1"] for run in runs) / len(runs)
print(f"{len(runs)} runs, mean F1 {mean_f1:.2f}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"mean_f1": mean_f1}, f)
