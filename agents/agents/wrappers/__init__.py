"""Gymnasium wrappers for the agents: Atari preprocessing (`agents.wrappers.atari`)."""

from agents.wrappers.atari import (
    ClipReward,
    CropDownsample,
    EpisodicLife,
    FireReset,
    FrameStack,
    GrayscaleResize,
    MaxAndSkip,
    NoopReset,
    make_atari_env,
)

__all__ = [
    "NoopReset",
    "FireReset",
    "EpisodicLife",
    "MaxAndSkip",
    "GrayscaleResize",
    "CropDownsample",
    "ClipReward",
    "FrameStack",
    "make_atari_env",
]
