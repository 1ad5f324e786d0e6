"""Train DQN on an Atari game with the Nature-paper preprocessing (`agents.wrappers.atari.make_atari_env`).

    python -m agents.dqn.atari --game BreakoutNoFrameskip-v4 --steps 10000000 --device cuda
    python -m agents.dqn.atari --game PongNoFrameskip-v4 --steps 2000 --device cpu      # a smoke run
    python -m agents.dqn.atari --resume results/atari/<run>/checkpoint.pt --game PongNoFrameskip-v4

Preprocessing: no-op starts, 4-frame skip with max-pooling, a life loss ends the training episode,
FIRE on reset where the game needs it, 84x84 gray frames, rewards clipped to their sign, 4 frames
stacked (stored once each in the replay buffer: 1M transitions take 7.1 GB of RAM).

Hyperparameters: `ATARI_SETTINGS`, CleanRL's `dqn_atari.py` settings (Mnih et al. 2015 with Adam):
buffer 1M, batch 32, Adam 1e-4, gamma 0.99, target copy every 1,000 steps, a gradient step every 4
env steps from step 80,000, epsilon 1 -> 0.01 over the first 1M steps, Huber loss, vanilla (not
Double) DQN, 1-step returns. Every `python -m agents train dqn` flag overrides them (`--help`);
the Nature paper's RMSprop: `--optimizer rmsprop --learning-rate 2.5e-4 --rmsprop-alpha 0.95
--rmsprop-centered --optimizer-eps 0.01 --target-update-interval 10000 --exploration linear:1:0.1:1000000`.

`--n-envs N` trains on N emulators stepped one after another in this process (a vector env without
worker processes, so the run stays on one core): the agent acts for all N with one batched forward pass
(Nature CNN, one core here, caches cold as in training: 1.9 ms for 4 observations against 1.1 ms for one),
and env steps count all N.
`--resume` takes N from the run's `config.json`. Resuming such a run restarts every sub-env's game (a vector
env cannot replay one sub-env's ongoing game; `agents.dqn.collect`), so it continues the run but not step
for step as a one-env run does.

Expected after 10M env steps (40M frames) on one GPU: Pong about +20, Breakout about 330-360
(CleanRL's DQN: Breakout 333.6 +- 120.6 on its published model; SB3's DQN in rl-baselines3-zoo's
benchmark: Pong 20.6, Breakout 358; one seed each). Not measured here: the build machine has no GPU.
Evaluation plays whole games (no life-loss episodes) with epsilon 0.05 (`act(greedy=False)`).

Outputs in `results/atari/<game>_s<seed>_<time>/`: `checkpoint.pt` (every `--checkpoint-every` steps,
on Ctrl-C and at the end; `--resume` continues a one-env run exactly), `agent.pt`, `config.json`,
`learning_curve.png` (episode = one life) and TensorBoard events. `--video game.gif` (or `.mp4`) also records
one greedy whole game from the first evaluation seed, raw 210x160 ALE screens at 15 frames/s (one per agent step),
cut after `VIDEO_MAX_FRAMES` (1,000 frames, about 67 s of play).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np

from agents.base import Agent
from agents.common.checkpoint import atomic_write_json, create_output_dir
from agents.common.command_line import (
    debug_requested,
    non_negative_int,
    positive_int,
    run_reporting_user_errors,
    seed_int,
)
from agents.common.config_flags import add_config_flags, config_overrides
from agents.common.plots import plot_learning_curve
from agents.common.video import check_video_path, record_episodes
from agents.dqn import DQN, DQNConfig
from agents.wrappers.atari import MAX_NUM_ENVS, _check_int, make_atari_env

ATARI_SETTINGS = dict(
    buffer_size=1_000_000,
    batch_size=32,
    learning_rate="1e-4",
    gamma=0.99,
    target_update_interval=1000,
    tau=1.0,
    train_freq=4,
    gradient_steps=1,
    learning_starts=80_000,
    exploration="linear:1.0:0.01:1000000",
    double_dqn=False,
    n_step=1,
    dueling=False,
    loss="huber",
    max_grad_norm=10.0,
    optimizer="adam",
    frame_stack=4,
)

# Sample-efficient settings for one CPU core: a 500k-step budget (2M frames) leaves about 60k-120k Nature-CNN
# updates (50-60 ms each on one AVX2 core), so exploration ends early (100k steps), learning starts at 10k,
# and Double DQN, a dueling head and 3-step returns make each update count (Hessel et al. 2018's
# ablations: n-step and Double/dueling are what speed up early learning). Adam's eps follows Rainbow.
PONG_CPU_SETTINGS = dict(
    ATARI_SETTINGS,
    buffer_size=100_000,
    learning_starts=10_000,
    exploration="linear:1.0:0.01:100000",
    double_dqn=True,
    dueling=True,
    n_step=3,
    train_freq=8,
    target_update_interval=2000,
    optimizer_eps=1.5e-4,
    num_threads=1,
    eval_epsilon=0.0,
)

VIDEO_MAX_FRAMES = 1000  # frames of --video: 210x160 RGB each, held in memory for a GIF (about 100 MB)

PRESETS = {
    "nature": (ATARI_SETTINGS, 10_000_000),
    "pong-cpu": (PONG_CPU_SETTINGS, 500_000),
}


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m agents.dqn.atari",
        description=__doc__.split("\n")[0],
        epilog="DQN flags override the preset's settings (see the module docstring).",
    )
    result.add_argument("--game", required=True, help="an Atari id, e.g. BreakoutNoFrameskip-v4 or ALE/Pong-v5")
    result.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="nature",
        help="hyperparameters and step budget: nature (CleanRL's, 10M steps, for a GPU) or pong-cpu "
        "(500k steps on one CPU core; see the module docstring) (default: nature)",
    )
    result.add_argument("--steps", type=positive_int, default=None, help="env (agent) steps (default: the preset's)")
    result.add_argument("--seed", type=seed_int, default=0)
    result.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder, or <out>-1, <out>-2, ... if it holds files: no run overwrites another "
        "(default: results/atari/<game>_s<seed>_<time>)",
    )
    result.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=100_000,
        help="env steps between checkpoints (default: 100,000)",
    )
    result.add_argument(
        "--no-replay-in-checkpoint", action="store_true", help="smaller checkpoints; a resumed run then differs"
    )
    result.add_argument("--resume", type=Path, default=None, help="a checkpoint.pt to finish instead of starting a run")
    result.add_argument(
        "--eval-episodes",
        type=non_negative_int,
        default=10,
        help="whole games played at the end; 0: none (default: 10)",
    )
    result.add_argument(
        "--video",
        type=Path,
        default=None,
        metavar="OUT.gif|OUT.mp4",
        help=f"also record one greedy whole game (at most {VIDEO_MAX_FRAMES} frames) to this file",
    )
    result.add_argument("--no-progress", action="store_true")
    add_config_flags(result, DQNConfig)
    return result


def make_training_env(game: str, n_envs: Any) -> gym.Env | gym.vector.VectorEnv:
    """The game for training: one env, or with `n_envs` > 1 a vector env of that many emulators stepped in
    this process (no worker processes: the run stays on one core, and acting takes one batched forward pass)."""
    n_envs = _check_int("n_envs", n_envs, 1, MAX_NUM_ENVS)  # make_atari_env's own check, under this flag's name
    if n_envs == 1:
        return make_atari_env(game)
    return make_atari_env(game, num_envs=n_envs, num_workers=0)


def read_hyperparameters(path: Path, game: str | None = None) -> dict[str, Any]:
    """The hyperparameters a run recorded in its `config.json`; {} when the file is missing (a checkpoint
    moved away from its run folder: the agent then says if the env does not fit its replay buffer).
    With `game`, a ValueError unless the run was of that game."""
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text())
        hyperparameters = config["hyperparameters"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a run's config.json (no readable 'hyperparameters'): {error}") from None
    recorded = config.get("game")
    if game is not None and recorded is not None and recorded != game:
        raise ValueError(f"{path.parent} is a run of {recorded}, not {game}: resume it with --game {recorded}")
    if not isinstance(hyperparameters, dict):
        raise ValueError(f"{path}: 'hyperparameters' must be a mapping, got {type(hyperparameters).__name__}")
    return hyperparameters


def read_episodes(path: Path) -> np.ndarray:
    """The rows of an `episodes.csv` (env_step, seconds, return) as an (n, 3) array; (0, 3) when none ended yet."""
    lines = path.read_text().splitlines()[1:]
    return np.array([[float(value) for value in line.split(",")] for line in lines], dtype=float).reshape(-1, 3)


class GameClock:
    """A training callback that appends (env step, wall seconds, episode return) to `episodes.csv` as
    episodes end, so the curve can be drawn against wall time too (a resumed run continues the clock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0
        if path.exists():
            rows = read_episodes(path)
            self.offset = float(rows[-1, 1]) if len(rows) else 0.0
        else:
            path.write_text("env_step,seconds,return\n")
        self.start = time.perf_counter()
        self.logged: int | None = None

    def __call__(self, agent: Agent, env_steps: int) -> bool:
        if self.logged is None:
            self.logged = len(agent.episode_log)
        if len(agent.episode_log) > self.logged:
            seconds = self.offset + time.perf_counter() - self.start
            with self.path.open("a") as file:
                for step, episode_return, _ in agent.episode_log[self.logged :]:
                    file.write(f"{step},{seconds:.1f},{episode_return:g}\n")
            self.logged = len(agent.episode_log)
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Train (or resume), evaluate and save; user errors (a bad flag value, an unknown game, a corrupt
    checkpoint) print one `error:` line and return 2 (RLSUITE_DEBUG=1 shows their traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_reporting_user_errors(lambda: run(argv), debug=debug_requested([]))


def run(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.video is not None:
        try:
            check_video_path(args.video)  # before hours of training, not after
        except ValueError as error:
            parser().error(str(error))
    settings, default_steps = PRESETS[args.preset]
    hyperparameters = {**settings, **config_overrides(args, DQNConfig)}
    if args.resume is not None:  # the run's own env count, from the config.json it wrote at its start
        if not args.resume.is_file():  # before anything is written next to it
            raise FileNotFoundError(f"--resume {args.resume}: no such checkpoint file")
        hyperparameters = read_hyperparameters(args.resume.parent / "config.json", args.game)
    env = make_training_env(args.game, hyperparameters.get("n_envs", 1))
    train_kwargs = dict(
        progress=not args.no_progress,
        checkpoint_every=args.checkpoint_every,
        checkpoint_replay=not args.no_replay_in_checkpoint,
    )
    start = time.perf_counter()
    if args.resume is not None:
        run_dir = args.resume.parent
        agent = DQN.resume(
            args.resume,
            env,
            log_dir=run_dir / "tensorboard",
            callback=GameClock(run_dir / "episodes.csv"),
            **train_kwargs,
        )
    else:
        name = f"{args.game.replace('/', '-')}_s{args.seed}_{time.strftime('%Y%m%d-%H%M%S')}"
        steps = args.steps if args.steps is not None else default_steps
        agent = DQN(env, hyperparameters, seed=args.seed)  # checks them
        run_dir = create_output_dir(args.out or Path("results") / "atari" / name)  # never an earlier run's folder
        print(f"run folder: {run_dir}", flush=True)
        atomic_write_json(
            run_dir / "config.json",
            {
                "game": args.game,
                "preset": args.preset,
                "seed": args.seed,
                "steps": steps,
                "hyperparameters": agent.hyperparameters(),
            },
        )
        try:
            agent.train(
                env,
                steps,
                log_dir=run_dir / "tensorboard",
                checkpoint_path=run_dir / "checkpoint.pt",
                callback=GameClock(run_dir / "episodes.csv"),
                **train_kwargs,
            )
        except KeyboardInterrupt:
            print(
                f"checkpoint written; continue with: python -m agents.dqn.atari --resume {run_dir / 'checkpoint.pt'} "
                f"--game {args.game}",
                file=sys.stderr,
            )
            return 130
    seconds = time.perf_counter() - start
    agent.save(run_dir / "agent.pt")
    episodes = read_episodes(run_dir / "episodes.csv")
    if len(episodes):
        plot_learning_curve(
            episodes[:, 0],
            episodes[:, 2],
            run_dir / "learning_curve.png",
            seconds=episodes[:, 1],
            title=f"DQN on {args.game} ({args.preset}): clipped return per training episode",
        )
    games = play_games(agent, args.game, args.eval_episodes, seed=10_000 + args.seed)
    scores = [game["score"] for game in games]
    last = episodes[-10:, 2] if len(episodes) else np.zeros(0)
    print(
        f"trained to env step {agent.env_steps} ({seconds:.0f} s in this call); last {len(last)} training episodes: "
        f"mean {last.mean() if len(last) else float('nan'):.2f}"
    )
    if games:
        print(
            f"evaluation, whole games with epsilon {agent.config.eval_epsilon}: score {np.mean(scores):.1f} "
            f"+- {np.std(scores):.1f} over {len(games)} games: {scores}"
        )
    atomic_write_json(
        run_dir / "evaluation.json",
        {
            "epsilon": agent.config.eval_epsilon,
            "games": games,
            "env_steps": agent.env_steps,
            "seconds_this_call": seconds,
        },
    )
    print(f"saved {run_dir / 'agent.pt'}; TensorBoard: tensorboard --logdir {run_dir / 'tensorboard'}")
    if args.video is not None:
        frames = record_game(agent, args.game, args.video, seed=10_000 + args.seed)
        print(f"saved {args.video} ({frames} frames)")
    return 0


def record_game(agent: DQN, game: str, path: str | Path, *, seed: int, max_frames: int = VIDEO_MAX_FRAMES) -> int:
    """Record one greedy whole game (as `play_games` plays it, but greedy) from `reset(seed=seed)` into `path`
    (.gif or .mp4): the raw RGB screen after every agent step, cut after `max_frames` frames; returns their number."""
    env = cast(gym.Env, make_atari_env(game, terminal_on_life_loss=False, clip_reward=False, render_mode="rgb_array"))
    try:
        return record_episodes(agent, env, 1, path, seed=seed, max_frames=max_frames)  # MaxAndSkip's real-time fps
    finally:
        env.close()


def play_games(agent: DQN, game: str, n_games: int, *, seed: int) -> list[dict[str, float]]:
    """Whole games (lives do not end episodes), epsilon-greedy with `eval_epsilon`: for each, the unclipped
    score, the points won and lost (rewards above and below 0), the agent steps and whether the emulator
    says the game is over (False only when the env's time limit cut the game short)."""
    env = make_atari_env(game, terminal_on_life_loss=False, clip_reward=False)
    games = []
    for i in range(n_games):
        obs, _ = env.reset(seed=seed + i)
        score, won, lost, steps, done = 0.0, 0, 0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs, greedy=False))
            score, steps = score + float(reward), steps + 1
            won, lost = won + int(float(reward) > 0), lost + int(float(reward) < 0)
            done = terminated or truncated
        games.append(
            {
                "score": score,
                "points_won": won,
                "points_lost": lost,
                "steps": steps,
                "game_over": bool(cast(Any, env.unwrapped).ale.game_over()),
            }
        )
    env.close()
    return games


if __name__ == "__main__":
    sys.exit(main())
