"""One lane of the crossing: from what the cameras and devices see to one decision on the kiosk.

    machine.py   the lane's state machine (idle, present, decided, ...), pure: events in, state out
    presence.py  vehicle arrived / stopped / left, from the plate camera
    runtime.py   one lane at run time: camera readers, evidence, decisions, barrier, the kiosk's view
    devices.py   the lane's barrier and document reader pollers
    faces.py     the lane's face steps: 1:1 against the document portrait, 1:N against the watchlist
    policy.py    evidence to CLEAR / REFER / DENY with reasons
    crossing.py  one vehicle's crossing: its decision revisions and the officer's actions
"""
