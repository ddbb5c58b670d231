"""Training drills: scripted scenarios on a training lane, each officer action scored against the right answer.

- `scenarios.py`: a drill file (TOML): the scenarios, in order, and the answer each expects;
- `scoring.py`: an officer's action against a scenario's answer: right, or wrong and which way, and how fast.
"""
