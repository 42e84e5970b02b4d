"""Embedded transcription: compute per second of audio, peak memory, word error rate.

    .venv/bin/python bench/transcription.py [--minutes 3] [--plain] [--threads 2]

Builds a few minutes of French speech with Debian's espeak-ng (robotic synthetic speech,
not a hearing: the word error rate says how Whisper copes with this voice, not with people
in a courtroom), then, for each installed model, runs the embedded pipeline exactly as the
loopback server does (:func:`backend.llm.whisper_local.transcribe`: batched, VAD on,
temperature 0, int8) in a fresh process, and prints:

- load seconds; wall seconds and CPU seconds per second of audio;
- peak resident memory of that process (VmHWM), model included;
- word error rate against the text spoken, lower-cased, punctuation removed, numbers
  written as espeak says them (the text uses none).

``--plain`` adds faster-whisper's sequential ``WhisperModel.transcribe`` (VAD on) to compare.
Only *base* is installed: the *small* wheels make a truncated ``model.bin`` (see the module).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "L'audience est ouverte.",
    "La parole est à la défense.",
    "Le témoin est entendu.",
    "Monsieur le président, je demande le renvoi de l'affaire.",
    "Le prévenu reconnaît les faits qui lui sont reprochés.",
    "La victime s'est constituée partie civile.",
    "Le ministère public requiert une peine de six mois d'emprisonnement avec sursis.",
    "L'avocat plaide la relaxe de son client.",
    "Le tribunal se retire pour délibérer.",
    "La décision sera rendue dans quinze jours.",
    "Le greffier donne lecture de l'acte de saisine.",
    "Les parties ont été régulièrement convoquées.",
    "Le juge rappelle au prévenu son droit de se taire.",
    "L'expert a déposé son rapport au greffe.",
    "La demande de mise en liberté est rejetée.",
    "Le conseil de la partie civile sollicite des dommages et intérêts.",
    "Le contrat de bail a été résilié le premier mars.",
    "Le locataire n'a pas payé ses loyers depuis un an.",
    "Le juge des enfants entend le mineur en présence de ses parents.",
    "L'affaire est mise en délibéré.",
]
PAUSE_S = 0.7


def build_audio(folder: Path, minutes: float) -> tuple[Path, str, float]:
    """A 16 kHz mono WAV of about ``minutes`` of espeak French, and the text spoken."""
    pieces, spoken, seconds = [], [], 0.0
    pause = folder / "pause.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(pause), "trim", "0", str(PAUSE_S)],
                   check=True)
    index = 0
    while seconds < minutes * 60:
        text = SENTENCES[index % len(SENTENCES)]
        raw, wav = folder / f"s{index}.raw.wav", folder / f"s{index}.wav"
        speed = 125 + 10 * (index % 4)  # a little variety in tempo
        subprocess.run(["espeak-ng", "-v", "fr", "-s", str(speed), "-g", "8", "-w", str(raw), text],
                       check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True)
        seconds += float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True,
                                        check=True).stdout) + PAUSE_S
        pieces += [str(wav), str(pause)]
        spoken.append(text)
        index += 1
    out = folder / "audience.wav"
    subprocess.run(["sox", *pieces, str(out)], check=True)
    return out, " ".join(spoken), seconds


def normalise(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    return re.sub(r"[^\w']+|'", " ", text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return previous[-1] / max(len(ref), 1)


CHILD = r"""
import json, os, resource, sys, time
from backend.llm import whisper_local as w
folder, audio, mode, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
began = time.monotonic()
pipeline = w.load(folder, threads=threads)
loaded = time.monotonic() - began
data = open(audio, "rb").read()
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
began = time.monotonic()
if mode == "batched":
    body = w.transcribe(pipeline, data)
else:
    import io
    segments, info = pipeline.model.transcribe(io.BytesIO(data), language="fr", temperature=0.0,
                                               vad_filter=True)
    body = {"text": " ".join(s.text.strip() for s in segments), "duration": info.duration}
wall = time.monotonic() - began
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"load_s": loaded, "wall_s": wall,
                  "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
                  "peak_mb": int(peak) / 1024, "duration": body["duration"], "text": body["text"]}))
"""


def run(folder: Path, audio: Path, mode: str, threads: int) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(audio), mode, str(threads)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from backend.llm import whisper_local

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--plain", action="store_true", help="also run the sequential mode")
    parser.add_argument("--data-dir", default=os.environ.get("PLUME_DATA_DIR", str(ROOT / "var")))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="plume-bench-stt-") as tmp:
        audio, reference, seconds = build_audio(Path(tmp), args.minutes)
        print(f"audio: {seconds / 60:.1f} min of espeak-ng French ({audio.stat().st_size / 1e6:.1f} MB wav), "
              f"{len(normalise(reference))} words; {args.threads} threads")
        print(f"{'model':<22}{'mode':<9}{'load s':>8}{'wall s/s':>10}{'cpu s/s':>9}"
              f"{'peak MB':>9}{'WER':>7}")
        for model in whisper_local.MODELS:
            folder = whisper_local.prepare(args.data_dir, model)
            for mode in ["batched", *(["plain"] if args.plain else [])]:
                r = run(folder, audio, mode, args.threads)
                print(f"{whisper_local.MODELS[model].name:<22}{mode:<9}{r['load_s']:>8.2f}"
                      f"{r['wall_s'] / r['duration']:>10.3f}{r['cpu_s'] / r['duration']:>9.3f}"
                      f"{r['peak_mb']:>9.0f}{word_error_rate(reference, r['text']):>7.2f}")


if __name__ == "__main__":
    main()
