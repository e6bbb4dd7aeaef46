"""Make the speech clips of tests/data/speech with espeak-ng (voice en-us), offline.

    python tests/data/speech/make_clips.py [OUT_DIR]     (default: this folder)

espeak-ng (the Debian package ``espeak-ng``) speaks each sentence of SENTENCES at 22050 Hz;
the clip is resampled to 16 kHz mono with soxr and written with soundfile as FLAC, and a few
clips are also written in the other formats the audio readers take (a 22050 Hz stereo WAV,
an OGG Vorbis, an MP3), so those paths are tested on real speech. transcripts.json maps each
file to its sentence. The clips are committed, so the test suite needs no espeak-ng.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile
import soxr

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 16000
VOICE = "en-us"
WORDS_PER_MINUTE = 150

SENTENCES = {
    "fox": "The quick brown fox jumps over the lazy dog.",
    "alice": "My name is Alice and I have three cats and two dogs.",
    "london": "Seven hundred people visited London on Tuesday morning.",
    "stella": "Please call Stella and ask her to bring twelve apples from the store.",
    "paris": "The weather in Paris was sunny, with a temperature of twenty degrees.",
    "doctor": "Good morning, Doctor Smith.",
}
# name -> (file, sentence key, how it is written)
FILES = {
    "fox.flac": ("fox", "flac"),
    "alice.flac": ("alice", "flac"),
    "london.flac": ("london", "flac"),
    "stella.flac": ("stella", "flac"),
    "paris.flac": ("paris", "flac"),
    "doctor_stereo_22050.wav": ("doctor", "stereo_wav"),
    "alice.ogg": ("alice", "ogg"),
    "london.mp3": ("london", "mp3"),
}


def speak(sentence):
    """-> (float32 samples, rate) of espeak-ng reading ``sentence``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", path,
                        sentence], check=True)
        samples, rate = soundfile.read(path, dtype="float32")
    return samples, rate


def write(path, samples, rate, how):
    mono = soxr.resample(samples, rate, RATE, quality="HQ").astype(np.float32)
    if how == "flac":
        soundfile.write(path, mono, RATE, format="FLAC", subtype="PCM_16")
    elif how == "stereo_wav":  # the original 22050 Hz, channels at different gains
        stereo = np.stack([samples, 0.5 * samples], axis=1)
        soundfile.write(path, stereo, rate, format="WAV", subtype="PCM_16")
    elif how == "ogg":
        soundfile.write(path, mono, RATE, format="OGG", subtype="VORBIS")
    elif how == "mp3":
        soundfile.write(path, mono, RATE, format="MP3", subtype="MPEG_LAYER_III")
    else:
        raise ValueError(how)


def main(out_dir=HERE):
    os.makedirs(out_dir, exist_ok=True)
    spoken = {key: speak(text) for key, text in SENTENCES.items()}
    transcripts = {}
    for name, (key, how) in FILES.items():
        samples, rate = spoken[key]
        write(os.path.join(out_dir, name), samples, rate, how)
        transcripts[name] = SENTENCES[key]
        info = soundfile.info(os.path.join(out_dir, name))
        print(f"{name}: {info.duration:.2f} s, {info.samplerate} Hz, {info.channels} ch, "
              f"{os.path.getsize(os.path.join(out_dir, name)) // 1024} KB")
    with open(os.path.join(out_dir, "transcripts.json"), "w") as f:
        json.dump(transcripts, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
