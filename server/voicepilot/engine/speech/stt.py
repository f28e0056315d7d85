"""Offline speech recognition: the session's tools as a command grammar, a generic model for the rest.

One pocketsphinx ``Decoder`` holds two searches over one acoustic model: a JSGF grammar of the
declared tools (see :mod:`.grammar`) and the generic English language model. Each utterance is
decoded with the grammar first; its result is accepted only when it parses as a whole command and
its worst word's acoustic score clears the threshold (``confidence`` 0.5), otherwise the language
model decodes it again as free text with no tool call. docs/engine.md has the measurements behind
the threshold and the accuracy of each search.
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
    """Transcribes whole utterances of 16-bit mono PCM at ``sample_rate`` (16, 24 and 48 kHz work).

    One instance per realtime call.

    Loading takes about 0.4 s (the acoustic model and the 27 MB language model; measured on
    2 cores) and about 100 MB of memory, so build it off the event loop. ``transcribe`` is
    synchronous and CPU-bound: run it in an executor. Calls on one instance are serialised by a
    lock (the decoder is not reentrant); use one instance per call for parallelism.
    """

    def __init__(self, tools: Sequence[Mapping[str, Any]], sample_rate: int = 16000) -> None:
        self._sample_rate = sample_rate
        self._lock = threading.Lock()
        self._decoder = Decoder(samprate=sample_rate, loglevel="FATAL")
        self._free_search = self._decoder.current_search()
        self._grammar = CommandGrammar(jsgf="", extra_words={})  # the one the decoder has
        self._wanted = self._grammar
        self.update_tools(tools)

    def update_tools(self, tools: Sequence[Mapping[str, Any]]) -> None:
        """Use a new tool list from the next utterance on.

        Cheap (well under a millisecond) and never waits for a transcription in progress, so it
        may be called on the event loop; the decoder takes the grammar at its next utterance.
        """
        self._wanted = CommandGrammar.from_tools(tools)

    def transcribe(self, pcm16: bytes) -> Recognition:
        if not self._has_sound(pcm16):
            return Recognition(text="", tool_call=None, confidence=0.0, source="free")
        with self._lock:
            self._install_wanted_grammar()
            if self._grammar.jsgf:
                text, confidence = self._decode(GRAMMAR_SEARCH, pcm16)
                tool_call = self._grammar.parse(text)
                if tool_call is not None and confidence >= MIN_CONFIDENCE:
                    return Recognition(text=text, tool_call=tool_call, confidence=confidence, source="grammar")
            text, confidence = self._decode(self._free_search, pcm16)
            return Recognition(text=text, tool_call=None, confidence=confidence, source="free")

    def _install_wanted_grammar(self) -> None:
        wanted = self._wanted  # read once: update_tools may replace it meanwhile
        if wanted.jsgf == self._grammar.jsgf:
            # The same tools again (a pooled recognizer is given its call's tools each utterance):
            # compiling the grammar anew would cost milliseconds under the lock for nothing.
            self._grammar = wanted
            return
        for word, phones in wanted.extra_words.items():
            if self._decoder.lookup_word(word) is None:
                self._decoder.add_word(word, phones, False)  # the grammar below is built with them
        if wanted.jsgf:
            self._decoder.add_jsgf_string(GRAMMAR_SEARCH, wanted.jsgf)
        self._grammar = wanted

    def _decode(self, search: str, pcm16: bytes) -> tuple[str, float]:
        decoder = self._decoder
        decoder.activate_search(search)
        # A fresh front end for every utterance (0.1 ms): its noise estimate otherwise carries over
        # from whatever this pooled decoder heard last, another call's speech included. Measured on
        # microphone captures: "go to line twelve" scored 0.99 alone and 0.43 right after "go to
        # line forty two", and fell through to the language model ("go to line them").
        decoder.reinit_feat()
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
