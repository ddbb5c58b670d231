"""The reader framings as bytes: round trips, noise, damage, and resynchronisation on the next frame."""

from __future__ import annotations

import random

import pytest

from hardware.reader_framing import (
    ETX,
    FRAMINGS,
    STX,
    LinesDecoder,
    ReaderFrame,
    block_check,
    decoder_for,
    encode_frame,
)
from hardware.sim.reader_sim import PORTRAIT
from tests.support.hardware_helpers import TD3

TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def _feed_bytewise(framing, data):
    decoder = decoder_for(framing, 4096)
    frames, errors = [], []
    for i in range(len(data)):
        f, e = decoder.feed(data[i : i + 1])
        frames += f
        errors += e
    return frames, errors


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("lines", [TD3, TD1])
def test_round_trip_even_one_byte_at_a_time(framing, lines):
    frames, errors = _feed_bytewise(framing, encode_frame(framing, lines) * 2)
    assert frames == [ReaderFrame(lines, None)] * 2
    assert errors == []


@pytest.mark.parametrize("framing", ["stx", "length"])
def test_portrait_follows_the_mrz(framing):
    frames, errors = _feed_bytewise(framing, encode_frame(framing, TD3, PORTRAIT))
    assert frames == [ReaderFrame(TD3, PORTRAIT)] and errors == []


def test_stx_portrait_may_contain_the_frame_bytes():
    portrait = bytes([STX, ETX, 0x1D, 0x0D]) * 50
    assert decoder_for("stx", 4096).feed(encode_frame("stx", TD3, portrait)) == ([ReaderFrame(TD3, portrait)], [])


def test_lines_framing_refuses_a_portrait():
    with pytest.raises(ValueError, match="text only"):
        encode_frame("lines", TD3, PORTRAIT)


def test_stx_block_check_is_the_xor_after_stx_through_etx():
    frame = encode_frame("stx", ("AB",))
    assert frame == bytes([STX]) + b"AB" + bytes([ETX, ord("A") ^ ord("B") ^ ETX])
    assert block_check(frame[1:-1]) == frame[-1]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_noise_before_between_and_after_frames_is_reported_and_frames_survive(framing):
    rng = random.Random(7)
    frame = encode_frame(framing, TD3)
    # Noise without line ends or frame starts, so it cannot be mistaken for the start of a frame.
    noise = bytes(b for b in rng.randbytes(300) if b not in (STX, 0x0A, 0x0D, 0xAA))[:40]
    decoder = decoder_for(framing, 4096)
    end = b"\r\n"  # the lines framing needs noise to end in a line end to tell it from the next line
    frames, errors = decoder.feed(noise + end + frame + noise + end + frame + noise + end)
    assert frames == [ReaderFrame(TD3, None)] * 2
    assert len(errors) >= 3
    assert not decoder.has_partial()


@pytest.mark.parametrize("framing", ["stx", "length"])
def test_every_single_byte_flip_is_detected(framing):
    frame = encode_frame(framing, TD3, PORTRAIT)
    for at in range(len(frame)):
        damaged = frame[:at] + bytes([frame[at] ^ 0x5A]) + frame[at + 1 :]
        decoder = decoder_for(framing, 4096)
        frames, errors = decoder.feed(damaged + encode_frame(framing, TD3))
        # The damaged frame is never delivered; the good one after it is (or the decoder waits
        # for more bytes because the damage made a length look longer).
        assert ReaderFrame(TD3, PORTRAIT) not in frames, at
        assert errors or decoder.has_partial(), at


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_truncated_frame_then_a_whole_one(framing):
    frame = encode_frame(framing, TD3)
    decoder = decoder_for(framing, 4096)
    assert decoder.feed(frame[: len(frame) // 2]) == ([], [])
    assert decoder.has_partial()
    decoder.reset()
    assert not decoder.has_partial()
    assert decoder.feed(frame) == ([ReaderFrame(TD3, None)], [])


def test_lines_document_cut_short_by_the_next_one():
    decoder = LinesDecoder()
    td1 = encode_frame("lines", TD1)
    frames, errors = decoder.feed(b"".join(td1.split(b"\r\n")[:1]) + b"\r\n" + encode_frame("lines", TD3))
    assert frames == [ReaderFrame(TD3, None)]
    assert errors == ["document cut short after 1 line(s)"]


def test_binary_flood_never_grows_the_buffer_past_the_limit():
    rng = random.Random(3)
    for framing in FRAMINGS:
        decoder = decoder_for(framing, 1024)
        for _ in range(50):
            decoder.feed(rng.randbytes(4096))
            assert len(decoder._buf) <= 1024 + 16, framing


def test_length_frame_with_a_huge_length_is_skipped():
    decoder = decoder_for("length", 1024)
    frames, errors = decoder.feed(b"\xaa\x55\xff\xff\xff\xff" + encode_frame("length", TD3))
    assert frames == [ReaderFrame(TD3, None)]
    assert errors[0] == "implausible frame length 4294967295"
