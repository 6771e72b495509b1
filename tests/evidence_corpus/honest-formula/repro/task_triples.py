"""How many three-task selections there are among the nine intermediate tasks."""
import json
import math
import os

N_TASKS = 9
PER_SELECTION = 3

triples = math.comb(N_TASKS, PER_SELECTION)
print(f"C({N_TASKS}, {PER_SELECTION}) = {triples}")

with open(os.path.join(os.environ["REPRO_OUT"], "result.json"), "w") as f:
    json.dump({"selections": triples}, f)
