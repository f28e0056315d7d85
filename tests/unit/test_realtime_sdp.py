"""What the sidecar reads from the service's SDP answer beyond what aiortc does: the longest packet the
service takes (``a=maxptime``), which caps the sidecar's packets of settled silence."""

from __future__ import annotations

from voicepilot.realtime.webrtc import audio_max_ptime_ms

ANSWER = """v=0\r
o=- 1 1 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
a=rtpmap:111 opus/48000/2\r
{audio}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r
{application}"""


def test_the_audio_sections_maxptime_is_read() -> None:
    assert audio_max_ptime_ms(ANSWER.format(audio="a=maxptime:40\r\n", application="")) == 40.0
    assert audio_max_ptime_ms(ANSWER.format(audio="a=ptime:20\r\na=maxptime: 120 \r\n", application="")) == 120.0


def test_no_maxptime_or_one_outside_the_audio_section_or_garbled_gives_none() -> None:
    assert audio_max_ptime_ms(ANSWER.format(audio="", application="")) is None
    assert audio_max_ptime_ms(ANSWER.format(audio="", application="a=maxptime:20\r\n")) is None
    assert audio_max_ptime_ms(ANSWER.format(audio="a=maxptime:soon\r\n", application="")) is None
