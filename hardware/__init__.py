"""Serial devices at the lane: links, barrier, document reader, MRZ parsing, simulators.

Nothing in here knows about vision or about the `edge` package; `edge` imports `hardware`,
never the other way round.
"""
