"""The local engine's offline speech: turn detection, recognition, synthesis and replies.

* :mod:`.vad` finds utterances in the input stream (``server_vad`` semantics);
* :mod:`.stt` transcribes them with pocketsphinx, as a tool call when they are a command;
* :mod:`.dialogue` decides what the engine answers;
* :mod:`.tts` speaks the answer with flite.
"""

from voicepilot.engine.speech.dialogue import Reply, reply_for_tool_output, reply_for_user_turn
from voicepilot.engine.speech.grammar import CommandGrammar, ToolCall
from voicepilot.engine.speech.numbers import number_to_words, words_to_number
from voicepilot.engine.speech.stt import Recognition, Recognizer
from voicepilot.engine.speech.tts import synthesize
from voicepilot.engine.speech.vad import ServerVad, SpeechStarted, SpeechStopped, VadEvent

__all__ = [
    "CommandGrammar",
    "Recognition",
    "Recognizer",
    "Reply",
    "ServerVad",
    "SpeechStarted",
    "SpeechStopped",
    "ToolCall",
    "VadEvent",
    "number_to_words",
    "reply_for_tool_output",
    "reply_for_user_turn",
    "synthesize",
    "words_to_number",
]
