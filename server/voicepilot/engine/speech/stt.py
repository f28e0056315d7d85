"""Offline speech recognition: the session's tools as a command grammar, a generic model for the rest.

One pocketsphinx ``Decoder`` holds two searches over the same acoustic model: a JSGF grammar of
the declared tools (see :mod:`.grammar`) and the bundled generic English language model. Each
utterance is decoded with the grammar first (about 30 ms for a short command). The grammar
maps any speech onto *some* command, so its result is accepted only when it parses as a whole
command and every word matched the audio well; otherwise the utterance is decoded again with
the language model (about 0.3-0.7 s) and returned as free text with no tool call. The generic
model is weak on synthetic speech (the research notes measured ~80% word error on espeak), so
free text is for show, not for assertions.

Confidence of a grammar match is the acoustic fit of its worst word. pocketsphinx scores every
frame relative to the best-scoring senone, so a word's acoustic score per frame is a likelihood
ratio against the best unconstrained match: about -0.7 to -3.9 nats per frame for correctly
recognised commands (flite and espeak-like voices), below -4.9 for non-commands forced onto the
grammar. ``confidence`` maps that gap logistically so that -4.5 nats/frame gives 0.5, the
acceptance threshold.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pocketsphinx import Decoder

from voicepilot.engine.speech.grammar import CommandGrammar, ToolCall
from voicepilot.engine.speech.vad import dbfs_to_power, frame_powers

GRAMMAR_SEARCH = "commands"
MIN_CONFIDENCE = 0.5
_GAP_AT_THRESHOLD = 4.5  # nats per frame below the best senone, for the worst word
_GAP_SCALE = 0.5
# Below this level no 10 ms frame holds speech: answer "" rather than let the language model
# guess (it says "dog" for digital silence).
_SILENCE_DBFS = -55.0
_FRAME_MS = 10
_FILLER_PREFIXES = ("<", "[", "+")  # <s>, </s>, <sil>, [NOISE], ++FILLER++


@dataclass(frozen=True)
class Recognition:
    text: str
    tool_call: ToolCall | None
    confidence: float
    source: Literal["grammar", "free"]


class Recognizer:
    """Transcribes whole utterances of 16-bit mono PCM; one instance per realtime call.

    Loading takes about 0.4 s (the acoustic model and the 27 MB language model; measured on
    2 cores) and about 130 MB of memory, so build it off the event loop. ``transcribe`` is
    synchronous and CPU-bound: run it in an executor. Calls on one instance are serialised by a
    lock (the decoder is not reentrant); use one instance per call for parallelism.
    """

    def __init__(self, tools: Sequence[Mapping[str, Any]], sample_rate: int = 16000) -> None:
        self._sample_rate = sample_rate
        self._lock = threading.Lock()
        self._decoder = Decoder(samprate=sample_rate, loglevel="FATAL")
        self._free_search = self._decoder.current_search()
        self._grammar = CommandGrammar(jsgf="", extra_words={})
        self._pending: CommandGrammar | None = None
        self.update_tools(tools)

    def update_tools(self, tools: Sequence[Mapping[str, Any]]) -> None:
        """Use a new tool list from the next utterance on (cheap: no decoding, never blocks)."""
        self._pending = CommandGrammar.from_tools(tools)

    def transcribe(self, pcm16: bytes) -> Recognition:
        if not self._has_sound(pcm16):
            return Recognition(text="", tool_call=None, confidence=0.0, source="free")
        with self._lock:
            self._install_pending_grammar()
            if self._grammar.jsgf:
                text, confidence = self._decode(GRAMMAR_SEARCH, pcm16)
                tool_call = self._grammar.parse(text)
                if tool_call is not None and confidence >= MIN_CONFIDENCE:
                    return Recognition(text=text, tool_call=tool_call, confidence=confidence, source="grammar")
            text, confidence = self._decode(self._free_search, pcm16)
            return Recognition(text=text, tool_call=None, confidence=confidence, source="free")

    def _install_pending_grammar(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        for word, phones in pending.extra_words.items():
            if self._decoder.lookup_word(word) is None:
                self._decoder.add_word(word, phones, False)  # the grammar below is built with them
        if pending.jsgf:
            self._decoder.add_jsgf_string(GRAMMAR_SEARCH, pending.jsgf)
        self._grammar = pending

    def _decode(self, search: str, pcm16: bytes) -> tuple[str, float]:
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(pcm16, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is None or not hypothesis.hypstr:
            return "", 0.0
        return hypothesis.hypstr, self._word_confidence()

    def _word_confidence(self) -> float:
        worst = 0.0
        for segment in self._decoder.seg():
            if segment.word.startswith(_FILLER_PREFIXES):
                continue
            frames = segment.end_frame - segment.start_frame + 1
            per_frame = math.log(segment.ascore) / frames if segment.ascore > 0 else -math.inf
            worst = min(worst, per_frame)
        return 1.0 / (1.0 + math.exp(min((-worst - _GAP_AT_THRESHOLD) / _GAP_SCALE, 700.0)))

    def _has_sound(self, pcm16: bytes) -> bool:
        powers = frame_powers(np.frombuffer(pcm16, dtype=np.int16), self._sample_rate * _FRAME_MS // 1000)
        return bool(powers.size) and float(powers.max()) >= dbfs_to_power(_SILENCE_DBFS)
