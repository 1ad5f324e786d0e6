"""Atari preprocessing (the DQN Nature-paper recipe) as small Gymnasium wrappers, and `make_atari_env`.

    from agents.wrappers.atari import make_atari_env
    env = make_atari_env("ALE/Pong-v5")                 # one env: obs (4, 84, 84) uint8
    envs = make_atari_env("ALE/Pong-v5", num_envs=8)    # vector env: obs (8, 4, 84, 84) uint8

Observations are channels-first, ``(frame_stack, 84, 84)`` uint8, oldest frame first, the layout
PyTorch convolutions, Gymnasium's ``FrameStackObservation``, envpool and ``ale_py.AtariVectorEnv`` use.
This layout is part of the API and will not change.

The standard stack, innermost first (the order of Stable-Baselines3's ``AtariWrapper``)::

    AtariEnv(frameskip=1) -> NoopReset -> MaxAndSkip -> [RecordEpisodeStatistics] -> EpisodicLife
        -> FireReset (games with FIRE) -> GrayscaleResize (or CropDownsample) -> ClipReward -> FrameStack

Every wrapper works on its own too. The Atari-only ones (``NoopReset``, ``FireReset``, ``EpisodicLife``,
``MaxAndSkip``) raise a ``TypeError`` naming valid ids when given a non-Atari env.

Ids: ``ALE/Pong-v5`` style ids are made with ``frameskip=1`` (``MaxAndSkip`` does the skipping; v5 keeps
its sticky actions, ``repeat_action_probability=0.25``, unless ``env_kwargs`` says otherwise);
``PongNoFrameskip-v4`` style ids are used as registered (no sticky actions, as in SB3 and the Nature
paper). An env that already skips frames (``Pong-v4``, ``Pong-v0``, or a v5 id with an
explicit ``frameskip=4``) is refused by ``MaxAndSkip``: stacking a 4-frame skip on it would repeat
each action 8 to 16 frames.

How the references differ, step by step (ours defaults to SB3's behaviour everywhere):

* No-op reset. SB3 and Gymnasium: 1..30 no-op frames, drawn from ``env.unwrapped.np_random``; ours:
  the same draw. ``ale_py.AtariVectorEnv`` (and envpool): 0..29 frames from a ``std::mt19937`` seeded
  with the reset seed, its FIRE frame counted as the first.
* Fire reset. SB3: FIRE then action 2, one agent step each, after every reset (so after every lost
  life too); ours: the same for games whose action 1 is FIRE (``fire_reset=None``), or forced on/off.
  Gymnasium: none. AtariVectorEnv: one FIRE frame at a real reset only.
* Life loss. SB3 and ours: ``terminated=True``, and the next ``reset()`` takes one no-op step and goes
  on with the game (ours also sets ``info["life_lost"]`` and ``info["game_over"]``). Gymnasium
  (``terminal_on_life_loss=True``, off by default) and AtariVectorEnv (``episodic_life=True``) end
  inside the frame skip and their next reset starts a new game.
* Max-pool. SB3: max of the last two RGB frames, then gray. Gymnasium and AtariVectorEnv: max of the
  last two gray frames. Ours: ``max_pool="rgb"`` (default) or ``"gray"``. Pooling first makes a colour
  neither frame has where objects move (Pong's paddles: most frames differ); Breakout's red on black
  gives the same pixels either way.
* Gray. SB3: ``cv2.cvtColor(RGB2GRAY)``; Gymnasium and AtariVectorEnv: ALE's palette gray. They agree
  on all 128 NTSC colours; ours uses the one that goes with the pooling order.
* Interpolation. All: ``cv2.INTER_AREA`` to 84x84.
* Reward. SB3: sign, the raw reward is dropped; Gymnasium: unclipped; AtariVectorEnv: clamped to
  [-1, 1] (the same for ALE's integer rewards); ours: sign, the raw reward in ``info["raw_reward"]``.
* Frame stack. SB3's ``VecFrameStack``: channels-last ``(84, 84, 4)``, zeros after a reset.
  Gymnasium's ``FrameStackObservation``: ``(4, 84, 84)``, padded with the reset frame.
  AtariVectorEnv: ``(4, 84, 84)``, zeros. Ours: ``(4, 84, 84)``, zeros (``stack_padding="reset"``
  for Gymnasium's).
* Terminal observation. SB3 and ours: a step that ends the game before its last frame pools the
  frames captured so far with those of the previous step. Gymnasium and AtariVectorEnv: the step stops
  before capturing the ending frame, and pools what their buffers still hold.

The tests (``tests/test_atari_equivalence.py``) check, on the real Pong and Breakout ROMs, that the
standard stack equals SB3's ``AtariWrapper`` + ``VecFrameStack`` pixel for pixel, and that the stack
configured like Gymnasium's (``max_pool="gray"``, no fire reset, no life loss, no clipping,
``stack_padding="reset"``) equals ``AtariPreprocessing`` + ``FrameStackObservation``, and configured
like AtariVectorEnv without its no-ops and fire (``noop_max=0``, no fire reset, no life loss, gray
pooling) equals that, on every step that does not end the game. The vector form of
``make_atari_env`` is ours (``agents.wrappers.vector``), not AtariVectorEnv, whose no-op and fire
resets cannot be made to match.

Two corner cases where we deliberately differ from both references (neither happens in the usual
games; both make the wrappers deterministic): if a game ends during the no-op or fire steps of a reset,
the new game is started without re-seeding (the references reset with the same seed again, replaying
the same start), and ``FireReset`` then returns the new game's frame (SB3 returns the ended one);
``MaxAndSkip.reset`` fills its two frame buffers with the reset frame, so a game that ends within two
frames of a reset pools that frame instead of frames left over from the previous game.

Speed: ``MaxAndSkip`` talks to the emulator (``ale.act``) directly when every wrapper between it and
the ``AtariEnv`` only acts on ``reset`` (gym.make's checkers, ``NoopReset``, ``FireReset``); the result is
the same as stepping through them (tested), without building an RGB observation and an info dict for
each skipped frame. In ``make_atari_env`` it also returns the gray frame itself (``gray=True``): it reads
the two screens as palette indices (1 us each instead of 21 us for RGB) and looks each pixel's
``cvtColor(max(rgb_a, rgb_b))`` up in a table that OpenCV computed for the colours seen so far
(``agents.wrappers.palette``), so the pixels stay SB3's. ``benchmarks/atari_bench.py`` measures it
against the references.

Size limits: ``screen_size`` (at most ``MAX_SCREEN_SIZE`` a side), ``frame_stack`` (``MAX_FRAME_STACK``),
``noop_max`` (``MAX_NOOP``), ``frame_skip`` (``MAX_FRAME_SKIP``) and ``num_envs`` (``MAX_NUM_ENVS``) are
checked before anything is allocated; a ValueError names the argument, the value and the limit.

Version history: v0 (this module): first release; size limits added.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Sequence
from typing import Any, Literal, SupportsFloat, cast

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import RecordEpisodeStatistics
from gymnasium.wrappers.common import OrderEnforcing, PassiveEnvChecker

EXAMPLE_IDS = ("ALE/Pong-v5", "ALE/Breakout-v5", "PongNoFrameskip-v4", "BreakoutNoFrameskip-v4")
MSPACMAN_COLOR = (210, 164, 74)  # Ms. Pac-Man's own colour; CropDownsample blanks it for contrast
ATARI_ENTRY_POINT = "ale_py.env:AtariEnv"
# Limits of the size-like arguments, checked before anything is allocated (a frame is
# screen_size[0] x screen_size[1] bytes; an observation frame_stack frames; a vector env num_envs emulators)
MAX_SCREEN_SIZE = 1024  # pixels a side of a resized frame (the emulator's screen is 210x160)
MAX_FRAME_STACK = 64  # frames per observation
MAX_NOOP = 1000  # no-op frames at reset (the usual 30 is half a second)
MAX_FRAME_SKIP = 100  # emulator frames per agent step
MAX_NUM_ENVS = 256  # sub-envs of a vector env (each an emulator, some in worker processes)
# The console's frame rate (NTSC, ~60 Hz); ale-py's metadata says 30, the rate its "human" mode draws at
ATARI_FRAMES_PER_SECOND = 60
MaxPool = Literal["rgb", "gray"]


# --------------------------------------------------------------------------- helpers
def register_atari_ids() -> None:
    """Register ale-py's Atari ids (``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ...) with Gymnasium."""
    import ale_py

    gym.register_envs(ale_py)


def atari_ids() -> list[str]:
    """All registered Atari ids (v5 and the legacy v0/v4 ones)."""
    register_atari_ids()
    return sorted(env_id for env_id, spec in gym.registry.items() if spec.entry_point == ATARI_ENTRY_POINT)


def require_atari(env: gym.Env, who: str) -> Any:
    """Return ``env.unwrapped`` if it is ale-py's ``AtariEnv``, else raise a TypeError naming valid ids."""
    from ale_py.env import AtariEnv

    base = env.unwrapped
    if not isinstance(base, AtariEnv):
        raise TypeError(
            f"{who} needs an Atari env from ale-py (ale_py.env.AtariEnv), got {type(base).__name__}; "
            f"make one with e.g. gym.make('ALE/Pong-v5', frameskip=1) or make_atari_env(...); "
            f"valid ids include {', '.join(EXAMPLE_IDS)}"
        )
    return base


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int, or a ValueError naming ``name``, the value and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        bounds = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise ValueError(f"{name} must be an integer {bounds}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer in {minimum}..{maximum} (the limit), got {value!r}")
    return int(value)


def _check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _frame_shape(size: int | tuple[int, int]) -> tuple[int, int]:
    """(height, width) from an int or a (height, width) pair, validated."""
    pair = (size, size) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else size
    if not (
        isinstance(pair, tuple)
        and len(pair) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in pair)
    ):
        raise ValueError(f"screen_size must be a positive int or a (height, width) pair of positive ints, got {size!r}")
    if max(pair) > MAX_SCREEN_SIZE:
        raise ValueError(
            f"screen_size must be at most {MAX_SCREEN_SIZE} pixels a side (MAX_SCREEN_SIZE; the emulator "
            f"draws 210x160), got {size!r}"
        )
    return int(pair[0]), int(pair[1])


def _image_space(env: gym.Env, who: str) -> spaces.Box:
    space = env.observation_space
    if not (
        isinstance(space, spaces.Box)
        and space.dtype == np.uint8
        and (len(space.shape) == 2 or (len(space.shape) == 3 and space.shape[2] == 3))
    ):
        raise TypeError(f"{who} needs uint8 image observations of shape (H, W) or (H, W, 3), got {space}")
    return space


# --------------------------------------------------------------------------- reset-time wrappers
class NoopReset(gym.Wrapper):
    """Start each game after a random number of no-op frames, so the agent sees varied starts.

    ## Behaviour
    ``reset`` resets the env, then takes ``n`` no-op actions (action 0, which must be ``NOOP``) with ``n``
    drawn uniformly from ``1..noop_max`` by the Atari env's own seeded RNG (``env.unwrapped.np_random``,
    the draw SB3 and Gymnasium make). Below ``MaxAndSkip`` each no-op is one emulator frame. If the game
    ends during the no-ops, a new game is started (without re-seeding). ``step`` is unchanged.

    ## Arguments
    * ``noop_max`` (default 30): the most no-ops; 0 turns the wrapper off.

    ## Version history
    * v0: first release.
    """

    passes_steps_through = True  # MaxAndSkip's fast path may step the emulator beneath this wrapper

    def __init__(self, env: gym.Env, noop_max: int = 30) -> None:
        super().__init__(env)
        base = require_atari(env, "NoopReset")
        self.noop_max = _check_int("noop_max", noop_max, 0, MAX_NOOP)
        if self.noop_max and base.get_action_meanings()[0] != "NOOP":
            raise ValueError(
                f"NoopReset needs action 0 to be NOOP; this game's actions are {base.get_action_meanings()}"
            )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        noops = int(self.env.unwrapped.np_random.integers(1, self.noop_max + 1)) if self.noop_max else 0
        for _ in range(noops):
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        return obs, info


class FireReset(gym.Wrapper):
    """Press FIRE after each reset, for games that stand still until the player fires (Breakout, Pong).

    ## Behaviour
    ``reset`` resets the env, then takes action 1 (``FIRE``) and action 2, one ``step`` each (above
    ``MaxAndSkip`` that is one agent step of 4 frames each), as SB3 and the DQN baselines do. Above
    ``EpisodicLife`` this happens after every lost life too. If either step ends the episode, the env is
    reset again (without re-seeding) and the new episode's observation is returned. ``step`` is unchanged.

    ## Arguments
    Only the env, whose action 1 must be FIRE and which must have at least 3 actions.

    ## Version history
    * v0: first release.
    """

    passes_steps_through = True

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        meanings = require_atari(env, "FireReset").get_action_meanings()
        if len(meanings) < 3 or meanings[1] != "FIRE":
            raise ValueError(
                f"FireReset needs action 1 to be FIRE and at least 3 actions; this game's actions are {meanings}"
            )

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        for action in (1, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        return obs, info


class EpisodicLife(gym.Wrapper):
    """End the training episode when a life is lost, but not the game (DeepMind's DQN trick).

    ## Behaviour
    ``step`` returns ``terminated=True`` when the number of lives drops (and stays above 0) and adds
    ``info["life_lost"]`` and ``info["game_over"]`` (the game itself ended: terminated or truncated by the
    emulator). The following ``reset()`` then does not restart the game: it takes one no-op step and
    returns its observation; only after a real game over (or when ``reset`` gets a ``seed``) does it reset
    the env. Episode returns of whole games: read ``info["episode"]`` from ``make_atari_env``'s
    statistics, which sit below this wrapper.

    ## Version history
    * v0: first release.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._base = require_atari(env, "EpisodicLife")  # not its ALE handle, which cannot be pickled
        self._lives = 0
        self._game_over = True

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._game_over = bool(terminated or truncated)
        lives = self._base.ale.lives()
        life_lost = 0 < lives < self._lives
        self._lives = lives
        info["life_lost"] = life_lost
        info["game_over"] = self._game_over
        return obs, reward, terminated or life_lost, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if self._game_over or seed is not None:
            obs, info = self.env.reset(seed=seed, options=options)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        self._game_over = False
        self._lives = self._base.ale.lives()
        return obs, info


# --------------------------------------------------------------------------- frame skipping
class MaxAndSkip(gym.Wrapper):
    """Repeat each action ``skip`` frames, sum the rewards, and max-pool the last two frames.

    ## Observation space
    The emulator screen: ``Box(0, 255, (210, 160, 3), uint8)`` with ``max_pool="rgb"``, or
    ``Box(0, 255, (210, 160), uint8)`` (ALE's palette grayscale) with ``max_pool="gray"``, or, with
    ``max_pool="rgb"`` and ``gray=True``, ``Box(0, 255, (210, 160), uint8)`` holding
    ``cv2.cvtColor(pooled_rgb, cv2.COLOR_RGB2GRAY)``: what ``GrayscaleResize`` makes of the RGB frame
    before resizing, pixel for pixel, computed from the screens' palette indices
    (``agents.wrappers.palette``: about 25 us less per step). Each call returns a new array.

    ## Behaviour
    The action is repeated for ``skip`` emulator frames, stopping early when the game ends. The
    observation is the pixel-wise max of the screens of the last two frames (Atari games flicker: some
    sprites are drawn only on odd or even frames). As in SB3, a step that ends the game before its last
    frame pools the frames captured so far with those of the previous step. The reward is the sum of
    the frame rewards (a float). ``info`` holds ``lives``, ``episode_frame_number`` and ``frame_number``.
    ``metadata["render_fps"]`` becomes 60 / ``skip`` (the console draws 60 frames a second), so videos of
    the rendered steps play in real time.
    Actions are indices into the game's action set; anything else raises.

    The wrapped env must not skip frames itself (``PongNoFrameskip-v4``, or ``gym.make("ALE/Pong-v5",
    frameskip=1)``): a ValueError says so otherwise.

    ## Arguments
    * ``skip`` (default 4): frames per agent step (1: no skipping and no pooling).
    * ``max_pool`` (default ``"rgb"``): ``"rgb"`` pools RGB frames (SB3; gray conversion follows in
      ``GrayscaleResize``); ``"gray"`` pools grayscale frames (Gymnasium's ``AtariPreprocessing``).
    * ``gray`` (default False): with ``max_pool="rgb"``, return the pooled frame converted to gray
      (``make_atari_env`` sets it unless it crops Ms. Pac-Man in colour). Ignored with ``"gray"``.

    ## Version history
    * v0: first release; ``gray`` added (the same pixels, read as palette indices).
    """

    _PASSIVE_WRAPPERS = (OrderEnforcing, PassiveEnvChecker)

    def __init__(self, env: gym.Env, skip: int = 4, max_pool: MaxPool = "rgb", gray: bool = False) -> None:
        super().__init__(env)
        base = require_atari(env, "MaxAndSkip")
        self.skip = _check_int("skip", skip, 1, MAX_FRAME_SKIP)
        self.max_pool = _check_choice("max_pool", max_pool, ("rgb", "gray"))
        self.gray = bool(_check_choice("gray", gray, (False, True))) or self.max_pool == "gray"
        if base._frameskip != 1:
            raise ValueError(
                f"MaxAndSkip needs an env that does not skip frames itself, but this one has frameskip="
                f"{base._frameskip!r}, so each action would last {self.skip} x {base._frameskip!r} frames; "
                "use a "
                f"NoFrameskip-v4 id (e.g. PongNoFrameskip-v4) or gym.make('ALE/Pong-v5', frameskip=1); "
                f"make_atari_env does the latter for ALE/...-v5 ids"
            )
        if not isinstance(base.action_space, spaces.Discrete):
            raise TypeError(f"MaxAndSkip needs discrete actions; this env has {base.action_space} (continuous=True?)")
        self._base = base
        # gray from pooled RGB screens: read palette indices and look the gray up (the same pixels)
        self._palette = None
        if self.gray and self.max_pool == "rgb":
            from agents.wrappers.palette import PaletteGray

            self._palette = PaletteGray(base.ale)
        self._bind_emulator()
        height, width = self._ale.getScreenDims()
        shape = (height, width) if self.gray else (height, width, 3)
        self.observation_space = spaces.Box(0, 255, shape, np.uint8)
        # the last two screens of the last step (RGB, palette indices or ALE gray), of the observation's shape
        self._frames = np.zeros((2, *shape), dtype=np.uint8)
        # one rendered frame per step: videos recorded above this wrapper play in real time
        self.metadata = {**env.metadata, "render_fps": ATARI_FRAMES_PER_SECOND / self.skip}
        self.fast = self._only_reset_wrappers_below()
        self._has_reset = False

    _EMULATOR_HANDLES = ("_ale", "_grab", "_ale_actions")

    def _bind_emulator(self) -> None:
        self._ale = ale = self._base.ale
        if self._palette is not None:
            self._palette.bind(ale)
            self._grab = self._palette.read
        else:
            self._grab = ale.getScreenRGB if self.max_pool == "rgb" else ale.getScreenGrayscale
        self._ale_actions = list(self._base._action_set)

    def _pooled(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """The observation from the last two screens (pass one twice for a single screen), a new array."""
        if self._palette is not None:
            return self._palette.pooled(frame_a, frame_b)
        return np.maximum(frame_a, frame_b)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and deepcopy keep the game where it is: the emulator state (RNG included) and the
        env's np_random travel with the wrapper (ale-py's AtariEnv alone restarts from scratch)."""
        state = {key: value for key, value in self.__dict__.items() if key not in self._EMULATOR_HANDLES}
        state["_emulator"] = (
            self._ale.cloneState(include_rng=True),
            self._base.np_random.bit_generator.state,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        emulator, rng_state = state.pop("_emulator")
        self.__dict__.update(state)
        self._bind_emulator()
        self._ale.restoreState(emulator)
        self._base.np_random.bit_generator.state = rng_state

    def _only_reset_wrappers_below(self) -> bool:
        """True when every wrapper between this one and the AtariEnv acts only on reset, so stepping the
        emulator directly gives what stepping through them would (their `step` is a plain pass-through)."""
        env = self.env
        while isinstance(env, gym.Wrapper):
            if not (isinstance(env, self._PASSIVE_WRAPPERS) or getattr(type(env), "passes_steps_through", False)):
                return False
            env = env.env
        return True

    def _action_index(self, action: Any) -> int:
        try:
            index = operator.index(action)
        except TypeError:
            raise TypeError(f"action must be an integer in 0..{len(self._ale_actions) - 1}, got {action!r}") from None
        if not 0 <= index < len(self._ale_actions):
            raise ValueError(f"action {action!r} is outside the action space {self.action_space}")
        return index

    def _info(self) -> dict[str, Any]:
        ale = self._ale
        return {
            "lives": ale.lives(),
            "episode_frame_number": ale.getEpisodeFrameNumber(),
            "frame_number": ale.getFrameNumber(),
        }

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._has_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        index = self._action_index(action)
        frames, grab, skip = self._frames, self._grab, self.skip
        first_kept = skip - 2  # frames first_kept and first_kept + 1 are pooled
        reward = 0.0
        terminated = truncated = False
        if self.fast:
            ale, ale_action = self._ale, self._ale_actions[index]
            for i in range(skip):
                reward += ale.act(ale_action)
                if i >= first_kept:
                    grab(frames[i - first_kept])
                if ale.game_over():
                    terminated, truncated = ale.game_over(with_truncation=False), ale.game_truncated()
                    break
            info = self._info()
        else:
            for i in range(skip):
                _, frame_reward, terminated, truncated, info = self.env.step(index)
                reward += float(frame_reward)
                if i >= first_kept:
                    grab(frames[i - first_kept])
                if terminated or truncated:
                    break
        obs = self._pooled(frames[0] if skip > 1 else frames[1], frames[1])
        return obs, reward, terminated, truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(seed=seed, options=options)
        self._has_reset = True
        self._grab(self._frames[1])
        self._frames[0] = self._frames[1]
        return self._pooled(self._frames[1], self._frames[1]), info


# --------------------------------------------------------------------------- observation and reward
class GrayscaleResize(gym.ObservationWrapper):
    """Convert frames to grayscale and resize them (84x84, ``cv2.INTER_AREA``, as SB3 and Gymnasium do).

    ## Observation space
    ``Box(0, 255, (height, width), uint8)``; input: uint8 ``(H, W, 3)`` RGB or ``(H, W)`` gray frames.
    Gray is ``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)`` (ITU-R 601 luma; ALE's own grayscale equals it
    on every NTSC palette colour). Each call returns a new array.

    ## Arguments
    * ``screen_size`` (default 84): an int for a square frame or a ``(height, width)`` pair.

    ## Version history
    * v0: first release.
    """

    def __init__(self, env: gym.Env, screen_size: int | tuple[int, int] = 84) -> None:
        super().__init__(env)
        self._rgb = len(_image_space(env, "GrayscaleResize").shape) == 3
        self.screen_size = _frame_shape(screen_size)
        self._dsize = self.screen_size[::-1]  # cv2 wants (width, height)
        self.observation_space = spaces.Box(0, 255, self.screen_size, np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        if self._rgb:
            observation = cv2.cvtColor(observation, cv2.COLOR_RGB2GRAY)
        return cv2.resize(observation, self._dsize, interpolation=cv2.INTER_AREA)


class CropDownsample(gym.ObservationWrapper):
    """Ms. Pac-Man style frames: crop the playfield and keep every other row and column (88x80 gray).

    ## Observation space
    ``Box(0, 255, (88, 80), uint8)`` from 210x160 screens: rows 1, 3, ..., 175 (the maze, without the
    score bar) and columns 0, 2, ..., 158. Gray is the mean of the three channels (integer division),
    and pixels whose channels sum to that of ``erase_color`` become 0, which makes the sprites stand out
    from the maze. Scaling to [-1, 1) or [0, 1) is left to the network, so frames stay one byte a pixel.

    ## Arguments
    * ``erase_color`` (default Ms. Pac-Man's ``(210, 164, 74)``): RGB colour to blank, or None.
      Needs RGB input; with gray input (``max_pool="gray"``) pass None.

    ## Version history
    * v0: first release.
    """

    ROWS = slice(1, 176, 2)
    COLS = slice(0, None, 2)

    def __init__(self, env: gym.Env, erase_color: tuple[int, int, int] | None = MSPACMAN_COLOR) -> None:
        super().__init__(env)
        space = _image_space(env, "CropDownsample")
        self._rgb = len(space.shape) == 3
        if erase_color is not None and not self._rgb:
            raise ValueError("CropDownsample's erase_color needs RGB frames; with gray frames pass erase_color=None")
        self._erase_sum = None if erase_color is None else int(sum(erase_color))
        height = len(range(*self.ROWS.indices(space.shape[0])))
        width = len(range(*self.COLS.indices(space.shape[1])))
        self.observation_space = spaces.Box(0, 255, (height, width), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        crop = observation[self.ROWS, self.COLS]
        if not self._rgb:
            return crop.copy()
        total = crop.sum(axis=2, dtype=np.uint16)
        if self._erase_sum is not None:
            total[total == self._erase_sum] = 0
        return (total // 3).astype(np.uint8)


class ClipReward(gym.Wrapper):
    """Clip rewards to their sign, -1.0, 0.0 or +1.0, keeping the raw reward in ``info["raw_reward"]``.

    One scale for every game lets one set of hyperparameters fit all (the Nature paper's choice).

    ## Version history
    * v0: first release.
    """

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["raw_reward"] = reward
        value = float(reward)
        return obs, float((value > 0) - (value < 0)), terminated, truncated, info


class FrameStack(gym.Wrapper):
    """Stack the last ``num_stack`` frames along a new first axis: ``(num_stack, *frame_shape)``.

    ## Observation space
    ``Box`` of shape ``(num_stack, *frame_shape)`` with the frame's dtype and bounds, oldest frame first.

    ## Behaviour
    Frames are kept once each, in a ring buffer of ``num_stack`` slots; each call returns a new array
    (one copy of the stack, so it is safe to keep, e.g. in a replay buffer). After ``reset`` the stack
    holds the first frame and ``num_stack - 1`` frames of zeros (``padding="zeros"``, SB3's
    ``VecFrameStack``, envpool and ``ale_py.AtariVectorEnv``) or of copies of the first frame
    (``padding="reset"``, Gymnasium's ``FrameStackObservation``).

    ## Arguments
    * ``num_stack`` (default 4): frames per observation.
    * ``padding`` (default ``"zeros"``): ``"zeros"`` or ``"reset"``.

    ## Version history
    * v0: first release.
    """

    def __init__(self, env: gym.Env, num_stack: int = 4, padding: Literal["zeros", "reset"] = "zeros") -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box):
            raise TypeError(f"FrameStack needs a Box observation space, got {space}")
        self.num_stack = _check_int("num_stack", num_stack, 1, MAX_FRAME_STACK)
        self.padding = _check_choice("padding", padding, ("zeros", "reset"))
        self.observation_space = spaces.Box(
            np.repeat(space.low[None], self.num_stack, axis=0),
            np.repeat(space.high[None], self.num_stack, axis=0),
            dtype=space.dtype,
        )
        self._frames = np.zeros((self.num_stack, *space.shape), dtype=space.dtype)
        # _orders[j]: slot indices from oldest to newest when slot j holds the newest frame
        self._orders = [np.roll(np.arange(self.num_stack), -(j + 1)) for j in range(self.num_stack)]
        self._newest = self.num_stack - 1

    def _push(self, frame: np.ndarray) -> np.ndarray:
        self._newest = (self._newest + 1) % self.num_stack
        self._frames[self._newest] = frame
        return self._frames[self._orders[self._newest]]

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        frame, reward, terminated, truncated, info = self.env.step(action)
        return self._push(frame), reward, terminated, truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        frame, info = self.env.reset(seed=seed, options=options)
        self._frames[:] = 0 if self.padding == "zeros" else frame
        return self._push(frame), info


# --------------------------------------------------------------------------- the standard stack
def _atari_spec(game_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of an Atari id, or a ValueError naming close matches and valid examples."""
    if not isinstance(game_id, str):
        raise TypeError(f"game_id must be a string such as {EXAMPLE_IDS[0]!r}, got {game_id!r}")
    ids = atari_ids()
    if game_id not in gym.registry:
        close = difflib.get_close_matches(game_id, ids, n=4, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(
            f"unknown Atari id {game_id!r}: no such game or id; {hint}"
            f"valid ids look like {', '.join(EXAMPLE_IDS)} "
            f"({len(ids)} Atari ids are registered: agents.wrappers.atari.atari_ids() lists them)"
        )
    spec = gym.spec(game_id)
    if spec.entry_point != ATARI_ENTRY_POINT:
        raise ValueError(f"{game_id!r} is not an Atari (ale-py) env; Atari ids look like {', '.join(EXAMPLE_IDS)}")
    return spec


def make_atari_env(
    game_id: str,
    *,
    num_envs: int | None = None,
    num_workers: int | None = None,
    spin_s: float | None = None,
    noop_max: int = 30,
    frame_skip: int = 4,
    max_pool: MaxPool = "rgb",
    terminal_on_life_loss: bool = True,
    fire_reset: bool | None = None,
    screen_size: int | tuple[int, int] = 84,
    mspacman_crop: bool = False,
    clip_reward: bool = True,
    frame_stack: int = 4,
    stack_padding: Literal["zeros", "reset"] = "zeros",
    episode_statistics: bool = True,
    env_kwargs: dict[str, Any] | None = None,
    render_mode: str | None = None,
) -> gym.Env | gym.vector.VectorEnv:
    """An Atari game with the Nature-paper preprocessing: one env, or a vector env of ``num_envs``.

    Observations: uint8 ``(frame_stack, 84, 84)`` (``(num_envs, frame_stack, 84, 84)`` batched),
    channels-first, oldest frame first. Rewards are clipped to -1/0/+1 (``info["raw_reward"]`` keeps the
    game's); episodes end on each lost life (``info["game_over"]`` marks the real end) and whole-game
    statistics come in ``info["episode"]`` (``r``: unclipped return, ``l``: agent steps, fire-reset
    steps included, ``t``: seconds).

    Args:
        game_id: ``ALE/Pong-v5`` style (made with ``frameskip=1``) or ``PongNoFrameskip-v4`` style.
        num_envs: None for one ``gym.Env``; an int for a ``gym.vector.VectorEnv`` whose sub-env i, reset
            with ``seed``, equals a single env reset with ``seed + i`` (NEXT_STEP autoreset).
        num_workers: worker processes of the vector env besides this process, which steps a share of
            the sub-envs too (default: CPU cores - 1); 0 runs every sub-env in this process.
        spin_s: seconds a waiting process of the vector env polls before it sleeps (default 0.001; 0: sleep
            at once; see ``BatchedProcessVectorEnv``).
        noop_max: up to this many no-op frames at reset (0: none).
        frame_skip: frames per agent step; the last two are max-pooled.
        max_pool: ``"rgb"`` pools RGB frames before gray conversion (SB3), ``"gray"`` pools gray frames
            (Gymnasium's ``AtariPreprocessing``).
        terminal_on_life_loss: end episodes when a life is lost (the game goes on at the next reset).
        fire_reset: press FIRE after reset; None (default): when the game's action 1 is FIRE.
        screen_size: frame size after resizing (int or (height, width)).
        mspacman_crop: crop and downsample to 88x80 (Ms. Pac-Man lab style) instead of resizing.
        clip_reward: clip rewards to their sign.
        frame_stack: frames per observation.
        stack_padding: ``"zeros"`` (SB3) or ``"reset"`` (Gymnasium) padding of the first stack.
        episode_statistics: add ``info["episode"]`` at the end of each game.
        env_kwargs: extra ``gym.make`` arguments, e.g. ``{"repeat_action_probability": 0.0}``.
        render_mode: ``"rgb_array"`` (``render()`` returns the emulator's RGB screen, e.g. for
            ``RecordVideo``) or ``"human"`` (a window); single env only.

    Size limits (module constants, checked before anything is allocated): ``screen_size`` at most
    ``MAX_SCREEN_SIZE`` (1024) a side, ``frame_stack`` at most ``MAX_FRAME_STACK`` (64), ``noop_max`` at
    most ``MAX_NOOP`` (1000), ``frame_skip`` at most ``MAX_FRAME_SKIP`` (100), ``num_envs`` at most
    ``MAX_NUM_ENVS`` (256).

    Raises:
        ValueError: an unknown id (close matches and valid ids are named), a non-Atari id, an env that
            already skips frames, or a bad option value (named, with the value and the allowed range).
    """
    per_sub_env = {key: value for key, value in locals().items() if key not in _NOT_PER_SUB_ENV}
    # size-like arguments first, under their names here, before any emulator or buffer is made
    _check_int("noop_max", noop_max, 0, MAX_NOOP)
    _check_int("frame_skip", frame_skip, 1, MAX_FRAME_SKIP)
    _check_int("frame_stack", frame_stack, 1, MAX_FRAME_STACK)
    _frame_shape(screen_size)
    if num_envs is not None:
        num_envs = _check_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        if render_mode is not None:
            raise ValueError("render_mode is for a single env (num_envs=None); render one sub-env on its own")
        from agents.wrappers.vector import DEFAULT_SPIN_S, BatchedProcessVectorEnv

        _atari_spec(game_id)  # fail here, not in a worker, on a bad id
        return BatchedProcessVectorEnv(
            [AtariFactory(game_id, per_sub_env)] * num_envs,
            num_workers=num_workers,
            spin_s=DEFAULT_SPIN_S if spin_s is None else spin_s,
        )
    if num_workers is not None or spin_s is not None:
        raise ValueError("num_workers and spin_s are for the vector form: pass num_envs too")
    spec = _atari_spec(game_id)
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if spec.namespace == "ALE" and "frameskip" not in kwargs:
        kwargs["frameskip"] = 1  # v5 ids skip 4 frames by default; MaxAndSkip does the skipping here
    env = gym.make(game_id, **kwargs)
    env = NoopReset(env, noop_max=noop_max)
    # gray straight from the frame skip (the same pixels, cheaper) unless the crop wants colour
    env = MaxAndSkip(env, skip=frame_skip, max_pool=max_pool, gray=not mspacman_crop)
    if episode_statistics:
        env = RecordEpisodeStatistics(env)  # whole games, raw rewards, agent steps
    if terminal_on_life_loss:
        env = EpisodicLife(env)
    meanings = cast(Any, env.unwrapped).get_action_meanings()  # an AtariEnv (checked by the id)
    if fire_reset is None:
        fire_reset = len(meanings) >= 3 and meanings[1] == "FIRE"
    if fire_reset:
        env = FireReset(env)
    if mspacman_crop:
        env = CropDownsample(env, erase_color=MSPACMAN_COLOR if max_pool == "rgb" else None)
    else:
        env = GrayscaleResize(env, screen_size=screen_size)
    if clip_reward:
        env = ClipReward(env)
    return FrameStack(env, num_stack=frame_stack, padding=stack_padding)


_NOT_PER_SUB_ENV = (
    "game_id",
    "num_envs",
    "num_workers",
    "spin_s",
    "render_mode",
)  # make_atari_env's other arguments go to each sub-env


class AtariFactory:
    """A picklable ``make_atari_env(game_id, **options)`` call (one env), for worker processes."""

    def __init__(self, game_id: str, options: dict[str, Any]) -> None:
        self.game_id = game_id
        self.options = options

    def __call__(self) -> gym.Env:
        return cast(gym.Env, make_atari_env(self.game_id, **self.options))  # num_envs=1: a single env
