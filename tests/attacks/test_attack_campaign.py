"""`edge bench attacks`, the whole campaign, against the real demo service: every attack holds.

This is how CI replays the attack report (issue 13): the 18 findings and the attacks that held
then, with the service's memory watched throughout. A failure prints the campaign's own lines,
which say what happened for each attack that did not hold.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edge.attacks.campaign import all_attacks


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.timeout(900)
def test_every_attack_of_the_campaign_holds(tmp_path):
    run = subprocess.run([sys.executable, "-m", "edge", "bench", "attacks", "--flood-seconds", "20",
                          "--keep", str(tmp_path / "campaign")], capture_output=True, text=True, timeout=880)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["failed"] == [], run.stdout
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert report["attacks"] == report["held"] == len(all_attacks())
    assert report["findings_replayed"] == list(range(1, 19))  # every finding of the report has its attack
    assert 0 < report["service_rss_max_mb"] <= 1024


def test_the_listing_names_every_attack_once(tmp_path):
    run = subprocess.run([sys.executable, "-m", "edge", "bench", "attacks", "--list"], capture_output=True,
                         text=True, timeout=120)
    names = [line.split()[0] for line in run.stdout.splitlines()]
    assert run.returncode == 0 and names == [a.name for a in all_attacks()]
    assert len(set(names)) == len(names) > 40
    missing = subprocess.run([sys.executable, "-m", "edge", "bench", "attacks", "--only", "no-such-attack"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "see --list" in missing.stderr
