"""Embedded transcription: compute per second of audio, peak memory, word error rate; and
the hearing path (decode once, cut on silences, one piece at a time) at growing lengths.

    .venv/bin/python bench/transcription.py [--minutes 3] [--plain] [--threads 2]
    .venv/bin/python bench/transcription.py --hearing 3,10,30 [--transcribe-up-to 10] [--words]

``--hearing``: for each length, a recording of espeak French and pauses (ogg, as a court's
recorder would give a compressed file) goes through what a job worker does, in a fresh
process: :func:`backend.llm.audio.decode` to PCM on disk, :func:`~backend.llm.audio.plan`,
then each piece as WAV through the embedded pipeline (up to ``--transcribe-up-to`` minutes;
longer files are decoded and cut only, to keep runs short on a shared machine). Printed:
peak resident memory (VmHWM, model included), CPU seconds per minute of audio for the
decode-and-cut and for the transcription, and the real-time factor per core (CPU seconds
per second of audio: on N free cores, wall time ≈ that × audio / N), and the word error rate
of the pieces' transcripts joined against the text spoken (see below). ``--words`` asks each
word's time too (``word_timestamps``, what ``PLUME_HEARING_WORD_TIMES`` asks of the server).

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


UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
         "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit",
         "dix-neuf"]
TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante", 8: "quatre-vingt"}


def in_words(n: int) -> str:
    """A number below 1000 as French words (spoken the way espeak says it)."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        if tens in (7, 9):
            return TENS[tens - 1] + ("-et-" if n == 71 else "-") + UNITS[10 + unit]
        return TENS[tens] + ("" if unit == 0 else "-et-un" if unit == 1 and tens != 8
                             else "-" + UNITS[unit])
    hundreds, rest = divmod(n, 100)
    return ("cent" if hundreds == 1 else UNITS[hundreds] + " cent") + (
        " " + in_words(rest) if rest else "")


def normalise(text: str) -> list[str]:
    """Lower case, no punctuation, numbers as words (« 6 » and « six », « 1er » and
    « premier » count alike), hyphens as spaces."""
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    text = re.sub(r"\b1er\b", "premier", text)
    text = re.sub(r"\b\d{1,3}\b", lambda m: in_words(int(m.group())), text)
    return re.sub(r"[^\w']+|'|-", " ", text).split()


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


CHILD_HEARING = r"""
import json, resource, sys, time
from pathlib import Path
from backend.llm import audio as a, whisper_local as w
folder, source, work, piece_s, transcribe, threads, words = (sys.argv[1], sys.argv[2],
    Path(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1", int(sys.argv[6]), sys.argv[7] == "1")
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
pipeline = w.load(folder, threads=threads) if transcribe else None
c0 = cpu()
decoded = a.decode(source, work / "audio.pcm", max_seconds=6 * 3600)
pieces = a.plan(decoded, piece_s)
c1 = cpu()
texts, timed = [], 0
for first, end in pieces:
    wav = a.piece_wav(work / "audio.pcm", first, end)
    if pipeline is not None:
        body = w.transcribe(pipeline, wav, words=words)
        texts.append(body["text"])
        timed += len(body.get("words", []))
c2 = cpu()
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"duration": decoded.duration, "pieces": len(pieces), "cut_cpu_s": c1 - c0,
                  "stt_cpu_s": c2 - c1, "peak_mb": int(peak) / 1024, "text": " ".join(texts),
                  "timed_words": timed}))
"""


def build_hearing(folder: Path, minutes: float) -> tuple[Path, str]:
    """``minutes`` of the bench's sentences and pauses, repeated, as Ogg Vorbis; the text said."""
    clip, spoken, _ = build_audio(folder, 1.0)
    out = folder / f"audience-{minutes:g}.ogg"
    length = float(subprocess.run(["soxi", "-D", str(clip)], capture_output=True, text=True,
                                  check=True).stdout)
    repeats = max(0, round(minutes * 60 / length) - 1)
    subprocess.run(["sox", str(clip), str(out), "repeat", str(repeats)], check=True)
    return out, " ".join([spoken] * (repeats + 1))


def hearings(args: argparse.Namespace) -> None:
    from backend.llm import whisper_local

    folder = whisper_local.prepare(args.data_dir, args.model)
    print(f"hearing path: {args.model}, pieces of {args.piece:g} s, {args.threads} threads, "
          f"word times {'on' if args.words else 'off'} "
          f"(transcription up to {args.transcribe_up_to:g} min)", flush=True)
    print(f"{'minutes':>8}{'pieces':>8}{'peak MB':>9}{'cut cpu s/min':>15}{'stt cpu s/min':>15}"
          f"{'RTF/core':>10}{'WER':>6}{'words':>7}", flush=True)
    with tempfile.TemporaryDirectory(prefix="plume-bench-hearing-") as tmp:
        for minutes in args.hearing:
            work = Path(tmp) / f"m{minutes:g}"
            work.mkdir()
            source, reference = build_hearing(work, minutes)
            transcribe = minutes <= args.transcribe_up_to
            env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT),
                   "OMP_WAIT_POLICY": "PASSIVE"}
            done = subprocess.run([sys.executable, "-c", CHILD_HEARING, str(folder), str(source),
                                   str(work), str(args.piece), "1" if transcribe else "0",
                                   str(args.threads), "1" if args.words else "0"],
                                  capture_output=True, text=True, env=env, cwd=ROOT, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            per_min = r["duration"] / 60
            stt = f"{r['stt_cpu_s'] / per_min:>15.2f}" if transcribe else f"{'—':>15}"
            rtf = f"{r['stt_cpu_s'] / r['duration']:>10.3f}" if transcribe else f"{'—':>10}"
            wer = f"{word_error_rate(reference, r['text']):>6.2f}" if transcribe else f"{'—':>6}"
            print(f"{r['duration'] / 60:>8.1f}{r['pieces']:>8}{r['peak_mb']:>9.0f}"
                  f"{r['cut_cpu_s'] / per_min:>15.2f}{stt}{rtf}{wer}{r['timed_words']:>7}",
                  flush=True)


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
    parser.add_argument("--hearing", type=lambda v: [float(x) for x in v.split(",")],
                        help="minutes, comma-separated: measure the hearing path instead")
    parser.add_argument("--transcribe-up-to", type=float, default=10.0,
                        help="with --hearing: transcribe files up to this many minutes")
    parser.add_argument("--piece", type=float, default=120.0, help="piece length in seconds")
    parser.add_argument("--words", action="store_true", help="with --hearing: word times too")
    parser.add_argument("--model", default="base", help="with --hearing: the embedded model")
    args = parser.parse_args()
    if args.hearing:
        hearings(args)
        return

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
