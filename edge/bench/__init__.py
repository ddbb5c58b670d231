"""Every `edge bench ...` measurement and soak, in one place; each prints one JSON object on its last line.

Speed is measured here and never in the tests. `lane.py`, `soak.py` and `attacks.py` register their own
`edge bench` commands; the others are the bodies behind commands registered in `edge/commands/`
(faces, face-frames, search, watchlist, outbox, faults).
"""
