"""An allocation-heavy Python workload for the LD_PRELOAD tests: dictionaries, lists, strings,
sets and JSON of many sizes, created and dropped in waves.  It prints a digest of everything it
built, which must be the same whichever malloc Python runs on."""
import hashlib
import json
import random

rng = random.Random(1234)
digest = hashlib.sha256()

for wave in range(30):
    table = {}
    for i in range(3000):
        key = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 40)))
        table[key] = [rng.random() for _ in range(rng.randint(0, 30))]
    blob = json.dumps(table, sort_keys=True)
    words = sorted(set(blob.split(",")))
    digest.update(blob.encode())
    digest.update("|".join(words[:100]).encode())
    del table, blob, words

print(digest.hexdigest())
