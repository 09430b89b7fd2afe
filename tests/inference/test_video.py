"""Morph videos: planning the path, even speed, and streaming it into MP4 / WebM."""

from __future__ import annotations

import io
import subprocess
import sys

import av
import pytest
import torch

from inference import video


@pytest.fixture(scope="module")
def keys(space):
    return space.sample(4, 11)


def test_plan_length_is_fps_times_duration(space, keys):
    assert video.plan(space, keys[:2], duration=1, fps=24).shape == (25, space.layers, space.dim)
    assert video.plan(space, keys[:2], duration=1, fps=24, loop=True).shape[0] == 24
    # 3 keyframes, 0.5 s per step: 2 steps = 30 frames of motion at 30 fps, + the last keyframe
    assert video.plan(space, keys[:3], seconds_per_step=0.5, fps=30).shape[0] == 31
    # a loop through 3 keyframes has 3 steps
    assert video.plan(space, keys[:3], seconds_per_step=0.5, fps=60, loop=True).shape[0] == 90


def test_plan_passes_through_the_keyframes(space, keys):
    frames = video.plan(space, keys[:3], seconds_per_step=0.5, fps=24, easing="ease-in-out")
    assert torch.equal(frames[0], keys[0])
    assert torch.equal(frames[12], keys[1])
    assert torch.equal(frames[-1], keys[2])
    looped = video.plan(space, keys[:3], seconds_per_step=0.5, fps=24, loop=True)
    assert torch.equal(looped[0], keys[0]) and not torch.equal(looped[-1], keys[0])


def test_plan_slerps_on_a_gaussian_prior(space, keys):
    frames = video.plan(space, keys[:2], duration=1, fps=24)
    middle = frames[12]
    norms = torch.linalg.vector_norm(keys[:2], dim=-1)
    # slerp keeps each layer's norm between the ends (a straight average would shrink it)
    got = torch.linalg.vector_norm(middle, dim=-1)
    assert torch.all(got >= norms.min(0).values - 1e-4)


def test_plan_is_deterministic(space, keys):
    a = video.plan(space, keys[:3], duration=1, fps=24, even_speed=True, easing="ease-in-out")
    b = video.plan(space, keys[:3], duration=1, fps=24, even_speed=True, easing="ease-in-out")
    assert torch.equal(a, b)


def test_even_speed_evens_out_the_picture_change(space):
    keys = space.sample(2, 3)
    plain = video.speed_cv(space, video.plan(space, keys, duration=1, fps=24))
    even = video.speed_cv(space, video.plan(space, keys, duration=1, fps=24, even_speed=True))
    assert plain > 0.15
    assert even < plain / 2, (plain, even)


def _mp4(space, frames, **kwargs):
    out = io.BytesIO()
    video.encode(space, frames, 256, 24, out, "mp4", **kwargs)
    return out.getvalue()


def test_mp4_is_h264_yuv420p_fast_start_and_deterministic(space, keys):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)  # 7 frames
    data = _mp4(space, frames)
    assert data == _mp4(space, frames)
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # fast start: the index comes first
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (256, 256)
        assert stream.average_rate == 24
        assert len(list(container.decode(video=0))) == 7


def test_mp4_frames_look_like_the_renders(space, keys):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)
    decoded = video.decode_frames(_mp4(space, frames), [0, 6])
    for got, latent in zip(decoded, (frames[0], frames[6]), strict=True):
        want = space.render(latent[None], 256)[0].numpy().astype(int)
        assert abs(got.astype(int) - want).mean() < 6


def test_mp4_to_a_path(space, keys, tmp_path):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)
    video.encode(space, frames, 256, 24, tmp_path / "a.mp4", "mp4")
    assert (tmp_path / "a.mp4").read_bytes() == _mp4(space, frames)


def test_webm_is_vp9_and_deterministic(space, keys):
    frames = video.plan(space, keys[:2], duration=0.25, fps=30)  # 9 frames
    outs = []
    for _ in range(2):
        out = io.BytesIO()
        video.encode(space, frames, 256, 30, out, "webm")
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    with av.open(io.BytesIO(outs[0])) as container:
        assert container.streams.video[0].codec_context.name == "vp9"
        assert len(list(container.decode(video=0))) == 9


def test_encode_all_renders_once_and_writes_the_same_files(space, keys, tmp_path):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)  # 7 frames
    rendered = []

    def render(latents, size, views):
        rendered.append(latents.shape[0])
        return video.render_here(space, latents, size, views)

    outs = {"mp4": tmp_path / "a.mp4", "webm": tmp_path / "a.webm"}
    video.encode_all(space, frames, 256, 24, outs, batch=4, render=render)
    assert rendered == [4, 3]  # each frame rendered once for both files
    webm = io.BytesIO()
    video.encode(space, frames, 256, 24, webm, "webm", batch=4)
    assert outs["mp4"].read_bytes() == _mp4(space, frames)
    assert outs["webm"].read_bytes() == webm.getvalue()
    with pytest.raises(ValueError, match="MP4 must be written to a path"):
        video.encode_all(space, frames, 256, 24, {"mp4": io.BytesIO()})


def test_progress_is_reported_per_batch(space, keys):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)  # 7 frames
    calls = []
    _mp4(space, frames, batch=3, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 7), (6, 7), (7, 7)]


def test_raising_in_progress_stops_and_removes_the_file(space, keys, tmp_path):
    frames = video.plan(space, keys[:2], duration=0.25, fps=24)
    calls = []

    def cancel(done, total):
        calls.append(done)
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        video.encode(space, frames, 256, 24, tmp_path / "a.mp4", "mp4", batch=2, on_progress=cancel)
    assert calls == [2]
    assert not (tmp_path / "a.mp4").exists()
    with pytest.raises(RuntimeError, match="cancelled"):
        video.encode(space, frames, 256, 24, io.BytesIO(), "webm", batch=2, on_progress=cancel)


def test_poster_is_the_first_keyframe(space, keys):
    data = video.poster(space, keys, 256)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert video.poster(space, keys, 256, "png")[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("keyframes", "kwargs", "message"),
    [
        (lambda k: k[:1], {}, "between 2 and 16 keyframes"),
        (lambda k: k[:1].repeat(17, 1, 1), {}, "between 2 and 16 keyframes"),
        (lambda k: k[:2, :, :5], {}, "shape"),
        (lambda k: k[0], {}, "shape"),
        (lambda k: k[:2], {"fps": 25}, "fps must be one of 24, 30, 60"),
        (lambda k: k[:2], {"easing": "bounce"}, "easing"),
        (lambda k: k[:2], {"duration": None}, "either seconds_per_step or duration"),
        (lambda k: k[:2], {"seconds_per_step": 1}, "either seconds_per_step or duration"),
        (lambda k: k[:2], {"duration": 0}, "more than 0"),
        (lambda k: k[:2], {"duration": 1000}, "at most 120"),
        (lambda k: k[:2].clone().fill_(float("nan")), {}, "finite"),
    ],
)
def test_bad_plans_raise(space, keys, keyframes, kwargs, message):
    args = {"duration": 1, "fps": 24, **kwargs}
    with pytest.raises(ValueError, match=message):
        video.plan(space, keyframes(keys), **args)


@pytest.mark.parametrize(
    ("size", "fps", "fmt", "message"),
    [
        (300, 24, "mp4", "size must be one of 256, 512, 1024"),
        (256, 25, "mp4", "fps must be one of"),
        (256, 24, "avi", "fmt must be one of mp4, webm"),
    ],
)
def test_bad_encodes_raise(space, keys, size, fps, fmt, message):
    with pytest.raises(ValueError, match=message):
        video.encode(space, keys[:2], size, fps, io.BytesIO(), fmt)


def test_inference_video_does_not_import_django():
    code = "import sys, inference.video; assert not any(m.startswith(('django', 'breeding')) for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_abstract_render_view_at_zoom_1_is_render(space, keys):
    assert torch.equal(space.render_view(keys[:2], 64, 1.0, (0.0, 0.0)), space.render(keys[:2], 64))
    assert not torch.equal(space.render_view(keys[:1], 64, 2.0, (0.0, 0.0)), space.render(keys[:1], 64))


def test_zoom_out_camera(space, keys):
    frames, views = video.camera(space, keys[0], duration=0.25, fps=24, zoom=2.0)
    assert frames.shape[0] == len(views) == 7
    assert views[0] == (1.0, 0.0, 0.0) and views[-1] == (2.0, 0.0, 0.0)
    out = io.BytesIO()
    video.encode(space, frames, 256, 24, out, "mp4", views=views)
    first, last = video.decode_frames(out.getvalue(), [0, 6])
    assert abs(first.astype(int) - space.render(keys[:1], 256)[0].numpy()).mean() < 6
    zoomed = space.render_view(keys[:1], 256, 2.0, (0.0, 0.0))[0].numpy()
    assert abs(last.astype(int) - zoomed).mean() < 6


def test_bad_cameras_raise(space, keys, figures):
    with pytest.raises(ValueError, match="zoom must be between"):
        video.camera(space, keys[0], duration=1, zoom=10)
    with pytest.raises(ValueError, match="one picture"):
        video.camera(space, keys[:2], duration=1)
    if not hasattr(figures, "render_view"):
        with pytest.raises(ValueError, match="cannot move a camera"):
            video.camera(figures, figures.sample(1, 0), duration=1)
    with pytest.raises(ValueError, match="one camera per frame"):
        video.encode(space, keys[:2], 256, 24, io.BytesIO(), views=[(1.0, 0.0, 0.0)])
