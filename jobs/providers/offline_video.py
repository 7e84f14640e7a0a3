"""Video for the offline provider: ffmpeg pan/zoom over a still, and video+audio muxing.

Output is what Telegram and browsers play everywhere: H.264 in MP4, yuv420p, with the index at
the front (``+faststart``) so playback starts before the download ends.
"""

from __future__ import annotations

from pathlib import Path

from jobs.media import CancelFn, ProgressFn, probe, run_ffmpeg

__all__ = ["MOTIONS", "animate_still", "merge_video_audio"]

MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right")


def _zoompan(motion: str, frames: int) -> str:
    """zoompan expressions; ``on`` is the output frame number, so motion is exact per frame."""
    last = max(1, frames - 1)
    centre_x, centre_y = "iw/2-(iw/zoom/2)", "ih/2-(ih/zoom/2)"
    if motion == "zoom_in":
        return f"z='1+0.25*on/{last}':x='{centre_x}':y='{centre_y}'"
    if motion == "zoom_out":
        return f"z='1.25-0.25*on/{last}':x='{centre_x}':y='{centre_y}'"
    if motion == "pan_left":
        return f"z='1.2':x='(iw-iw/zoom)*(1-on/{last})':y='{centre_y}'"
    return f"z='1.2':x='(iw-iw/zoom)*on/{last}':y='{centre_y}'"


async def animate_still(
    image: Path,
    output: Path,
    *,
    width: int,
    height: int,
    duration: float,
    fps: int,
    motion: str,
    progress: ProgressFn | None = None,
    is_cancelled: CancelFn | None = None,
    time_limit: float = 600.0,
) -> None:
    """Make ``duration`` seconds of ``fps`` video moving over ``image`` (``zoompan``).

    The still is first scaled to cover twice the output size, which keeps zoompan's integer
    cropping from visibly jittering.
    """
    frames = max(1, round(duration * fps))
    graph = (
        f"scale={2 * width}:{2 * height}:force_original_aspect_ratio=increase,"
        f"crop={2 * width}:{2 * height},setsar=1,"
        f"zoompan={_zoompan(motion, frames)}:d={frames}:s={width}x{height}:fps={fps},"
        "format=yuv420p"
    )
    await run_ffmpeg(
        [
            "-i",
            str(image),
            "-vf",
            graph,
            "-frames:v",
            str(frames),
            "-r",
            str(fps),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(output),
        ],
        duration=frames / fps,
        progress=progress,
        is_cancelled=is_cancelled,
        time_limit=time_limit,
        stage="rendering video",
    )


async def merge_video_audio(
    video: Path,
    audio: Path,
    output: Path,
    *,
    progress: ProgressFn | None = None,
    is_cancelled: CancelFn | None = None,
    time_limit: float = 600.0,
) -> float:
    """Put ``audio`` under ``video``; the result lasts as long as the video. Returns seconds.

    Short audio is padded with silence, long audio is cut. H.264 video is copied untouched;
    anything else is re-encoded so the MP4 plays everywhere.
    """
    info = await probe(video)
    if not info.has_video or not info.duration:
        raise ValueError("the video input has no video stream")
    video_codec = (
        ["-c:v", "copy"]
        if info.video_codec == "h264"
        else ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    )
    await run_ffmpeg(
        [
            "-i",
            str(video),
            "-i",
            str(audio),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            *video_codec,
            "-af",
            "apad",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-t",
            f"{info.duration:.3f}",
            "-movflags",
            "+faststart",
            str(output),
        ],
        duration=info.duration,
        progress=progress,
        is_cancelled=is_cancelled,
        time_limit=time_limit,
        stage="merging",
    )
    return info.duration
