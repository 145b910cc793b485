"""Frame-accurate clips, cut from the original (never from the proxy).

A clip keeps the camera's own encoding wherever it can. H.264 can only start decoding
at an IDR picture, so a cut rarely falls on one; the pictures from the in-point up to
the next IDR (the head) and from the last IDR before the out-point (the tail, when its
pictures are reordered past the out-point) are decoded and re-encoded, and every
packet between is copied byte for byte. The re-encoded parts use their own parameter
set ids (1 and 2), added to the clip's avcC beside the camera's, so one track holds
both. Sources that are not H.264 in MP4/MOV are re-encoded whole (`method` says which).

Audio packets overlapping the range are copied (AAC frames are ~21 ms, so the audio
may start up to one frame early; the MP4 edit list hides it), or re-encoded to AAC
where the source's codec cannot go into MP4.

Every function reads `src` and writes `dst`; the caller stores the file and records
the provenance (overt.review.derive, through overt.media.catalogue). Pure: no Django.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import av
from av.audio.stream import AudioStream
from av.video.codeccontext import VideoCodecContext

from .audio import AacEncoder
from .derivatives import display_size, h264_encoder
from .h264 import AvcC, H264Encoder, to_avcc
from .pictures import ClipError, CutPlan, Picture, PictureIndex, index_pictures
from .probe import probe

# The provenance name clips and stills have always carried; it names the recipe, not a
# module path, so it stays the same now that the cutter lives in media.
GENERATOR = "overt.review.clips"
_RECIPE = "1"
GENERATOR_VERSION = ";".join(
    [
        f"recipe={_RECIPE}",
        f"pyav={av.__version__}",
        f"ffmpeg={av.ffmpeg_version_info}",
        *(f"{lib}={'.'.join(map(str, v))}" for lib, v in sorted(av.library_versions.items())),
    ]
)
COPYABLE_AUDIO = {"aac", "mp3", "alac"}
MAX_CLIP_S = 4 * 3600.0

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ClipResult:
    method: str  # "smart-cut" (copy between re-encoded cuts) or "re-encode"
    in_s: float  # the first picture's time on the source's timeline
    out_s: float  # the last picture's time
    duration_s: float
    first_frame: int  # 0-based picture numbers in the source, in display order
    last_frame: int
    frames: int
    reencoded_frames: int
    copied_frames: int
    audio: str  # "copy", "re-encode" or "none"
    width: int
    height: int
    size: int


def make_clip(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    in_s: float,
    out_s: float,
    progress: Progress | None = None,
) -> ClipResult:
    """Cut the pictures shown from `in_s` to `out_s` (both included; seconds on the
    source's own timeline, zero at its earliest stream, as the proxy plays it)."""
    info = probe(src)
    if not info.playable:
        raise ClipError(f"unplayable source: {info.problem}")
    if not out_s >= in_s >= 0:
        raise ClipError("the out-point must not come before the in-point")
    if out_s - in_s > MAX_CLIP_S:
        raise ClipError(f"a clip may be at most {MAX_CLIP_S / 3600:.0f} hours long")
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        avcc = AvcC.parse(bytes(vin.codec_context.extradata or b""))
        smart = vin.codec_context.name == "h264" and avcc is not None
        index = index_pictures(inp, avcc.length_size if smart and avcc else None)
    duration = index.time_of(index.pictures[-1])
    if in_s > duration + index.frame_duration():
        raise ClipError(f"the in-point is after the end of the footage ({duration:.3f} s)")
    first = index.nearest(in_s)
    last = index.nearest(out_s)
    plan = CutPlan.make(index, first, last, smart)
    with av.open(os.fspath(src)) as inp:
        result = _Cutter(inp, os.fspath(dst), index, plan, avcc, info.rotation).run(progress)
    return result


class _Cutter:
    """Reads the source once, from the IDR before the first picture, in decode order:
    packets of copied pictures go straight to the clip, the rest through a decoder and
    the head's or tail's encoder."""

    def __init__(
        self,
        inp: av.container.InputContainer,
        dst: str,
        index: PictureIndex,
        plan: CutPlan,
        avcc: AvcC | None,
        rotation: int,
    ) -> None:
        self.inp, self.dst, self.index, self.plan, self.rotation = inp, dst, index, plan, rotation
        self.vin = inp.streams.video[0]
        self.ain = inp.streams.audio[0] if inp.streams.audio else None
        self.avcc = avcc
        pictures = index.pictures
        kept = pictures[plan.first : plan.last + 1]
        self.base = kept[0].pts  # becomes zero in the clip
        self.keep = {p.pts for p in kept}
        self.decode_index = {p.pts: p.decode_index for p in pictures}
        self.last_decode = max(p.decode_index for p in kept)
        if plan.copy_from is not None and plan.copy_until is not None:
            copied = pictures[plan.copy_from : plan.copy_until + 1]
            self.copy_range: tuple[int, int] | None = (
                min(p.decode_index for p in copied),
                max(p.decode_index for p in copied),
            )
        else:
            self.copy_range = None
        start = plan.first
        while start > 0 and not pictures[start].idr:
            start -= 1  # decoding must begin at an IDR (or the file's first picture)
        self.seek_pts = pictures[start].pts
        self.first_decode = min(p.decode_index for p in pictures[start : plan.first + 1])
        self.clip_start = index.time_of(kept[0])
        self.clip_end = index.time_of(kept[-1]) + index.frame_duration()

    def run(self, progress: Progress | None) -> ClipResult:
        vin, ain = self.vin, self.ain
        with av.open(
            self.dst, mode="w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            self.out = out
            head, tail = self._video_stream(out)
            aout, audio_mode, audio_encoder = self._audio_stream(out)
            self.inp.seek(self.seek_pts, stream=vin, backward=True, any_frame=False)
            streams = [vin] if aout is None else [vin, ain]
            decoder: _Decoder | None = None
            copied = reencoded = 0
            video_done, audio_done = False, aout is None
            for packet in self.inp.demux(*streams):
                if packet.stream is not vin:
                    audio_done = audio_done or not self._audio(packet, aout, audio_encoder)
                    if video_done and audio_done:
                        break
                    continue
                if video_done or packet.size == 0:
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                di = self.decode_index.get(pts) if pts is not None else None
                if pts is None or di is None or di < self.first_decode:
                    continue
                if di > self.last_decode:
                    video_done = True
                elif self.copy_range and self.copy_range[0] <= di <= self.copy_range[1]:
                    if decoder is not None:
                        reencoded += decoder.flush()
                        decoder = None
                    packet.stream = self.vout
                    packet.pts = pts - self.base
                    packet.dts = packet.dts - self.base if packet.dts is not None else None
                    out.mux(packet)
                    copied += 1
                else:
                    encoder = head if self.copy_range is None or di < self.copy_range[0] else tail
                    if decoder is None or decoder.encoder is not encoder:
                        if decoder is not None:
                            reencoded += decoder.flush()
                        assert encoder is not None
                        decoder = _Decoder(self, encoder)
                    reencoded += decoder.decode(packet)
                    video_done = di == self.last_decode
                if video_done and decoder is not None:
                    reencoded += decoder.flush()
                    decoder = None
                if progress is not None:
                    progress(min(1.0, (copied + reencoded) / len(self.keep)))
                if video_done and audio_done:
                    break
            if decoder is not None:
                reencoded += decoder.flush()
            if audio_encoder is not None:
                audio_encoder.finish()
        frames = reencoded + copied
        if frames != len(self.keep):
            raise ClipError(
                f"expected {len(self.keep)} pictures but wrote {frames}; the source may be damaged"
            )
        pictures = self.index.pictures
        disp_w, disp_h = display_size(vin, self.rotation)
        return ClipResult(
            method="smart-cut" if self.copy_range else "re-encode",
            in_s=self.index.time_of(pictures[self.plan.first]),
            out_s=self.index.time_of(pictures[self.plan.last]),
            duration_s=self.clip_end - self.clip_start,
            first_frame=self.plan.first,
            last_frame=self.plan.last,
            frames=frames,
            reencoded_frames=reencoded,
            copied_frames=copied,
            audio=audio_mode,
            width=disp_w,
            height=disp_h,
            size=os.path.getsize(self.dst),
        )

    def _video_stream(
        self, out: av.container.OutputContainer
    ) -> tuple[H264Encoder | None, H264Encoder | None]:
        vin = self.vin
        head = tail = None
        if self.copy_range is not None and self.avcc is not None:
            plan = self.plan
            needs_head = plan.copy_from is not None and plan.copy_from > plan.first
            needs_tail = not plan.tail_copied
            head = H264Encoder(vin, sps_id=1, like=self.avcc) if needs_head else None
            tail = H264Encoder(vin, sps_id=2, like=self.avcc) if needs_tail else None
            # Re-encoded pictures are not reordered, but must decode before the camera's
            # IDR that follows the head, and start the tail where the camera's IDR did.
            pictures = self.index.pictures
            if head is not None and plan.copy_from is not None:
                head.delay = _lead(pictures[plan.copy_from])
            if tail is not None and plan.copy_until is not None:
                tail.delay = _lead(pictures[plan.copy_until + 1])
            merged = AvcC(
                self.avcc.profile,
                self.avcc.compatibility,
                self.avcc.level,
                self.avcc.length_size,
                list(self.avcc.sps),
                list(self.avcc.pps),
                self.avcc.trailer,
            )
            for encoder in (head, tail):
                if encoder is not None:
                    merged.sps += encoder.sps
                    merged.pps += encoder.pps
            self.vout = out.add_stream_from_template(vin)
            self.vout.codec_context.extradata = merged.build()
            self.length_size = self.avcc.length_size
        else:  # nothing to copy: re-encode the whole range as a plain H.264 stream
            rate = vin.average_rate or Fraction(25)
            self.vout = cast(av.video.stream.VideoStream, out.add_stream(h264_encoder(), rate=rate))
            head = H264Encoder(vin, sps_id=0, like=self.avcc, stream=self.vout)
        self.vout.time_base = vin.time_base
        if self.rotation:
            try:
                self.vout.set_display_rotation(-self.rotation)  # PyAV takes counter-clockwise
            except (AttributeError, ValueError, av.FFmpegError):
                pass
        return head, tail

    def encode(self, frame: av.VideoFrame, encoder: H264Encoder) -> int:
        if frame.pts is None or frame.pts not in self.keep:
            return 0
        frame.pts = frame.pts - self.base
        frame.pict_type = 0
        for packet in encoder.encode(frame):
            self.mux_encoded(packet, encoder.delay, encoder.convert)
        return 1

    def mux_encoded(self, packet: av.Packet[Any], delay: int, convert: bool = True) -> None:
        if not convert:  # the clip's own encoder: the muxer takes its packets as they are
            packet.stream = self.vout
            self.out.mux(packet)
            return
        data = to_avcc(bytes(packet), self.length_size)
        if not data:
            return
        fresh = av.Packet(data)
        fresh.pts = packet.pts
        fresh.dts = packet.pts - delay if packet.pts is not None else None
        # FFmpeg gives every opened stream a time base; PyAV's types allow None.
        fresh.time_base = cast(Fraction, self.vin.time_base)
        fresh.is_keyframe = packet.is_keyframe
        fresh.stream = self.vout
        self.out.mux(fresh)

    # audio

    def _audio_stream(
        self, out: av.container.OutputContainer
    ) -> tuple[AudioStream | None, str, _AudioReencoder | None]:
        ain = self.ain
        if ain is None:
            return None, "none", None
        if ain.codec_context.name in COPYABLE_AUDIO:
            aout = out.add_stream_from_template(ain)
            aout.time_base = ain.time_base
            return aout, "copy", None
        encoder = _AudioReencoder(out, ain, self.index.zero + self.clip_start)
        return encoder.stream, "re-encode", encoder

    def _audio(
        self,
        packet: av.Packet[Any],
        aout: AudioStream | None,
        encoder: _AudioReencoder | None,
    ) -> bool:
        """Copy (or re-encode) one audio packet if it overlaps the clip; False once past."""
        if packet.pts is None or packet.size == 0:
            return True
        tb = packet.time_base
        start = float(packet.pts * tb) - self.index.zero
        if start >= self.clip_end:
            return False
        if start + float((packet.duration or 0) * tb) <= self.clip_start:
            return True
        if encoder is not None:
            encoder.push(packet)
            return True
        shift = round(float(self.base * cast(Fraction, self.vin.time_base)) / tb)  # as above
        packet.stream = aout
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        self.out.mux(packet)
        return True


def _lead(picture: Picture) -> int:
    return max(0, picture.pts - picture.dts) if picture.dts is not None else 0


class _Decoder:
    """Decodes one run of re-encoded pictures (the head or the tail) into its encoder."""

    def __init__(self, cutter: _Cutter, encoder: H264Encoder) -> None:
        self.cutter, self.encoder = cutter, encoder
        vin = cutter.vin
        # The source's H.264 decoder: a video context.
        self.ctx = cast(VideoCodecContext, av.CodecContext.create(vin.codec_context.name, "r"))
        self.ctx.extradata = vin.codec_context.extradata

    def decode(self, packet: av.Packet[Any]) -> int:
        try:
            frames = self.ctx.decode(packet)
        except av.FFmpegError:
            return 0  # a damaged packet: the count check reports the missing picture
        return sum(self.cutter.encode(frame, self.encoder) for frame in frames)

    def flush(self) -> int:
        """The decoder's last pictures, then the encoder's: a run ends before the next
        part of the clip is written, so decode times stay in order."""
        try:
            frames = self.ctx.decode(None)
        except av.FFmpegError:
            frames = []
        count = sum(self.cutter.encode(frame, self.encoder) for frame in frames)
        for packet in self.encoder.finish():
            self.cutter.mux_encoded(packet, self.encoder.delay, self.encoder.convert)
        return count


class _AudioReencoder:
    """AAC (the shared encoder) for sources whose audio cannot be copied into MP4 (PCM,
    Opus, ...): the cutter hands over packets, this decodes and encodes them. Sample 0
    plays at `origin` (the clip's first picture, on the source's clock)."""

    def __init__(
        self, out: av.container.OutputContainer, ain: av.audio.AudioStream, origin: float
    ) -> None:
        self.encoder = AacEncoder(out, ain, origin, bit_rates=(128_000, 128_000), keep_early=True)
        self.stream = self.encoder.stream

    def push(self, packet: av.Packet[AudioStream]) -> None:
        # The source stream's own decoder: it was opened with the stream's parameters
        # (channels, sample format), which a bare decoder for raw PCM lacks.
        try:
            frames = packet.decode()
        except av.FFmpegError:
            return
        for frame in frames:
            self.encoder.push(frame)

    def finish(self) -> None:
        self.encoder.finish()
