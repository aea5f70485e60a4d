"""``python -m bench.drills <name>``: see bench/drills/run.py."""

from bench.drills.run import main

main()
