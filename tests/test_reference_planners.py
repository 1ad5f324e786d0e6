"""The privileged reference planners (`planner`): legal moves only, far above random, fixed seeds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld  # noqa: F401
import gym_snake  # noqa: F401
from agents import load_agent, make_agent
from agents.common.evaluation import evaluate
from agents.planners import PlannerAgent
from agents.planners.snake import DELTAS

FIRE, GOAL = 4, 3


def _gridworld_steps(env: gym.Env, planner: PlannerAgent, episodes: int):
    """Yield (game, agent cell before, action) for every step of `episodes` planner episodes."""
    for episode in range(episodes):
        obs, _ = env.reset(seed=100 + episode)
        done = False
        while not done:
            game = env.unwrapped.game
            before = int(game.agent[0])
            fires = {int(c) for c, k in zip(game.objects[0], game.slot_kinds) if k == FIRE}
            action = planner.act(obs, env=env)
            yield game, before, fires, action
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"partial": True},
        {"size": 8, "n_goals": 2, "n_fires": 10, "obs_type": "grid"},
    ],
)
def test_gridworld_planner_never_bumps_the_wall_or_steps_on_an_avoidable_fire(kwargs) -> None:
    env = gym.make("gridworld-v0", **kwargs)
    planner = make_agent("planner", env)
    moves = fenced = 0
    for game, before, fires, action in _gridworld_steps(env, planner, 20):
        target = int(game.picture.next_cell[before, action])
        assert target != before, "walked into the wall"
        if target in fires:  # only when no goal can be reached without (wandering would forfeit every goal)
            fenced += 1
            assert not _goal_reachable_without_fires(game, before, fires), "stepped on a fire it could walk around"
        moves += 1
    assert moves == 20 * 50
    assert fenced <= 3  # rare even among 10 fires


def _goal_reachable_without_fires(game, start: int, fires: set[int]) -> bool:
    goals = {int(c) for c, k in zip(game.objects[0], game.slot_kinds) if k == GOAL}
    seen, frontier = {start}, [start]
    while frontier:
        frontier = [int(n) for c in frontier for n in game.picture.next_cell[c] if int(n) not in seen | fires]
        seen.update(frontier)
        if goals & set(frontier):
            return True
    return False


def test_gridworld_planner_beats_random_by_far() -> None:
    env = gym.make("gridworld-v0")  # the full 84x84x3 view of the pixel comparison
    planner = evaluate(make_agent("planner", env), env, 20, seed=1000)
    random = evaluate(make_agent("random", env, seed=0), env, 20, seed=1000)
    assert planner.mean >= 24.0  # measured: 25.8 (one goal every ~2 steps)
    assert random.mean <= 1.0 and planner.mean - random.mean >= 20.0


def _snake_checks(env: gym.Env, planner: PlannerAgent, episodes: int, seed: int) -> list[int]:
    """Play planner episodes, asserting legality at every step; returns the food eaten per episode."""
    scores = []
    u = env.unwrapped
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            heading, snake = u.heading, u.snake
            action = planner.act(obs, env=env)
            direction = action if u.config.action_mode == "absolute" else (heading + (action - 1)) % 4
            assert direction != (heading + 2) % 4, "reversed into its neck"

            def dies(d: int, snake: list = snake) -> bool:
                row, col = snake[0][0] + DELTAS[d][0], snake[0][1] + DELTAS[d][1]
                if u.config.wrap_walls:
                    row, col = row % u.config.height, col % u.config.width
                elif not (0 <= row < u.config.height and 0 <= col < u.config.width):
                    return True
                return (row, col) in snake[:-1]

            if dies(direction):
                assert all(dies(d) for d in range(4) if d != (heading + 2) % 4), "died with a safe move left"
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            if info["death"]:
                assert dies(direction)
        scores.append(info["score"])
    return scores


def test_snake_planner_plays_legally_and_beats_random_by_far() -> None:
    env = gym.make("snake-v0", obs_type="rgb")  # the 10x10 board of the pixel comparison
    scores = _snake_checks(env, make_agent("planner", env), 3, seed=1000)
    random = evaluate(make_agent("random", env, seed=0), env, 20, seed=1000)
    assert np.mean(scores) >= 60  # measured: 91.5 food per game over 20 games (97 fills the board)
    assert random.mean <= 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 6, "height": 6, "obs_type": "grid"},
        {"width": 6, "height": 5, "wrap_walls": True, "obs_type": "features"},
        {"width": 6, "height": 6, "action_mode": "relative", "obs_type": "grid"},
    ],
)
def test_snake_planner_variants(kwargs) -> None:
    env = gym.make("snake-v0", **kwargs)
    scores = _snake_checks(env, make_agent("planner", env), 10, seed=7)
    assert np.mean(scores) >= 15  # a random snake eats about 0-1


def test_planner_is_marked_privileged_saves_and_refuses_other_envs(tmp_path) -> None:
    env = gym.make("gridworld-v0")
    planner = make_agent("planner", env, seed=3)
    assert planner.privileged and planner.uses_env_state
    planner.save(tmp_path / "p.npz")
    loaded = load_agent(tmp_path / "p.npz", env)
    obs, _ = env.reset(seed=1)
    assert loaded.kind == "gridworld" and loaded.act(obs, env=env) == planner.act(obs, env=env)
    with pytest.raises(ValueError, match="act\\(obs, env=env\\)"):
        planner.act(obs)
    with pytest.raises(ValueError, match="no plan for .CartPole-v1."):
        make_agent("planner", gym.make("CartPole-v1"))


def test_planner_train_plays_the_budget_and_records_episodes() -> None:
    env = gym.make("gridworld-v0", obs_type="grid")
    planner = make_agent("planner", env).train(env, 120, progress=False)
    assert [(step, length) for step, _, length in planner.episode_log] == [(50, 50), (100, 50)]
    assert all(ret >= 15 for _, ret, _ in planner.episode_log)
