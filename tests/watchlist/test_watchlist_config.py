"""The [watchlist] config section: what it accepts and the errors it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import DEFAULT_CONFIG, ConfigError, parse_config

KEY = "A" * 43 + "="


def _parse(section: str):
    return parse_config(DEFAULT_CONFIG.read_text() + "\n" + section, Path("/etc/edge/test.toml"))


def test_a_full_watchlist_section_parses():
    config = _parse(
        '[watchlist]\nsources = ["https://wl.example.org/", "/media/usb/wl"]\nmax_age_h = 6\n'
        'stale_policy = "no_auto_clear"\nrequired_lists = ["vehicles"]\nmax_db_mb = 4096\n'
        f'[[watchlist.trusted_keys]]\nid = "c-2026"\npublic_key = "{KEY}"\nnot_after = 2027-01-01T00:00:00Z\n'
    )
    wl = config.watchlist
    assert wl.sources == ["https://wl.example.org/", "/media/usb/wl"] and wl.stale_policy == "no_auto_clear"
    assert wl.trusted_keys[0].not_after.year == 2027 and wl.state_dir == Path("watchlist")


def test_the_default_is_an_empty_cache_with_no_sources():
    wl = parse_config(DEFAULT_CONFIG.read_text(), DEFAULT_CONFIG).watchlist
    assert wl.sources == [] and wl.trusted_keys == [] and wl.stale_policy == "refer_all"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('[watchlist]\nsources = ["usb/wl"]', "watchlist.sources: 'usb/wl' must be an http(s):// URL or an absolute"),
        ('[watchlist]\nstale_policy = "panic"', "watchlist.stale_policy"),
        ("[watchlist]\nmax_age_h = 0", "watchlist.max_age_h"),
        ('[watchlist]\nsurces = ["/x"]', "watchlist.surces: unknown key"),
        (f'[[watchlist.trusted_keys]]\nid = "a"\npublic_key = "{KEY}"\n[[watchlist.trusted_keys]]\nid = "a"\n'
         f'public_key = "{KEY}"', "each trusted key id may appear only once"),
        ('[[watchlist.trusted_keys]]\nid = "a"\npublic_key = "not-a-key"', "watchlist.trusted_keys[0].public_key"),
        (f'[[watchlist.trusted_keys]]\nid = "a"\npublic_key = "{KEY}"\nnot_after = 2027-01-01T00:00:00',
         "not_after needs a time zone"),
    ],
)
def test_bad_watchlist_settings_are_named(section, problem):
    with pytest.raises(ConfigError) as caught:
        _parse(section)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
