"""DQN training speed on Atari Pong: our `agents.dqn.DQN` against Stable-Baselines3's DQN, same settings.

    python benchmarks/dqn_atari_speed.py                         # 20,000 agent steps each, 4 rounds
    python benchmarks/dqn_atari_speed.py --steps 4000 --rounds 2  # a quick run
    python benchmarks/dqn_atari_speed.py --steps 4000 --parts     # also: where the time goes
    python benchmarks/dqn_atari_speed.py --flag-costs             # only: what each Pong-recipe flag costs

Times the whole training loop (env steps, epsilon-greedy acting, replay storage and sampling, the
updates, target copies) for `--steps` agent steps of each, on one torch thread for both. The steps
are cut into `--rounds` chunks run in turn (ours, SB3, ours, SB3, ...; each model continues where it
stopped), so that load from other processes on the machine slows both alike. Prints agent steps per
second (wall clock, and per CPU second of this process: steadier on a busy machine) and the ratio.

Settings, both: the Nature CNN, vanilla DQN (1-step targets, no Double DQN, no dueling head), batch
32, a gradient step every 4 agent steps once `--learning-starts` steps are stored (1,000 by default,
so updates run), Adam 1e-4, Huber loss, gradient norm clipped at 10, gamma 0.99, target copy every
1,000 steps, a constant epsilon (0.05: the regime of most of a long run, where the network acts on
95% of the steps), a replay buffer of `--buffer` transitions.
Ours: `make_atari_env("PongNoFrameskip-v4")` (frames stored once each in the buffer); SB3:
`AtariWrapper` + `VecFrameStack(DummyVecEnv, 4)`, `CnnPolicy`, `optimize_memory_usage=True`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

GAME = "PongNoFrameskip-v4"
SETTINGS = {
    "batch_size": 32,
    "learning_rate": 1e-4,
    "gamma": 0.99,
    "train_freq": 4,
    "gradient_steps": 1,
    "target_update_interval": 1000,
    "max_grad_norm": 10.0,
}


def ours(steps_total: int, learning_starts: int, buffer: int, epsilon: float, seed: int):
    from agents.dqn import DQN
    from agents.dqn.atari import ATARI_SETTINGS
    from agents.wrappers.atari import make_atari_env

    env = make_atari_env(GAME)
    config = dict(
        ATARI_SETTINGS,
        buffer_size=buffer,
        learning_starts=learning_starts,
        exploration=str(epsilon),
        learning_rate=str(SETTINGS["learning_rate"]),
        num_threads=1,
        device="cpu",
        log_interval=10**9,
    )
    for key in ("batch_size", "gamma", "train_freq", "gradient_steps", "target_update_interval", "max_grad_norm"):
        assert config[key] == SETTINGS[key], key
    agent = DQN(env, config, seed=seed)

    def run(steps: int) -> None:
        agent.train(env, steps, progress=False)

    return run, agent, env


def sb3(steps_total: int, learning_starts: int, buffer: int, epsilon: float, seed: int):
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import DQN as SB3DQN
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    gym.register_envs(ale_py)
    venv = VecFrameStack(DummyVecEnv([lambda: AtariWrapper(gym.make(GAME))]), n_stack=4)
    model = SB3DQN(
        "CnnPolicy",
        venv,
        buffer_size=buffer,
        learning_starts=learning_starts,
        exploration_initial_eps=epsilon,
        exploration_final_eps=epsilon,
        optimize_memory_usage=True,
        replay_buffer_kwargs={"handle_timeout_termination": False},
        device="cpu",
        seed=seed,
        verbose=0,
        **SETTINGS,
    )
    first = [True]

    def run(steps: int) -> None:
        model.learn(steps, reset_num_timesteps=first[0], progress_bar=False)
        first[0] = False

    return run, model, venv


def _timed(run: Callable[[int], None], steps: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run(steps)
    return time.perf_counter() - wall, time.process_time() - cpu


def _per_call_ms(function: Callable[[], object], calls: int) -> float:
    function()  # warm-up
    start = time.process_time()
    for _ in range(calls):
        function()
    return (time.process_time() - start) / calls * 1000


def parts(our_agent, our_env, model, venv, calls: int, epsilon: float) -> None:
    """CPU milliseconds per call of each part of a training step, for both (after the timed runs), and their
    sum per agent step: the ratio they allow."""
    obs, _ = our_env.reset(seed=1)
    rows = {}
    rows["env step (agent step)"] = (
        _per_call_ms(lambda: our_env.step(0), calls * 10),
        _per_call_ms(lambda: venv.step(np.array([0])), calls * 10),
    )
    sb3_obs = venv.reset()
    rows["acting (greedy, batch 1)"] = (
        _per_call_ms(lambda: our_agent.act(obs), calls * 4),
        _per_call_ms(lambda: model.predict(sb3_obs, deterministic=True), calls * 4),
    )
    size = 32
    rows["replay sample (batch 32)"] = (
        _per_call_ms(lambda: our_agent._to_tensors(our_agent.replay.sample(size, our_agent.rng)), calls * 4),
        _per_call_ms(lambda: model.replay_buffer.sample(size, env=None), calls * 4),
    )
    batch = our_agent._to_tensors(our_agent.replay.sample(size, our_agent.rng))
    rows["gradient step (batch 32)"] = (
        _per_call_ms(lambda: our_agent._gradient_step(*batch), calls),
        _per_call_ms(lambda: model.train(gradient_steps=1, batch_size=size), calls),
    )
    data = model.replay_buffer.sample(size, env=None)
    with torch.no_grad():
        rows["  of which: target forward (32)"] = (
            _per_call_ms(lambda: our_agent.target_network(batch[3]), calls),
            _per_call_ms(lambda: model.q_net_target(data.next_observations), calls),
        )
    print(f"\nwhere the time goes: CPU ms per call (one pass of {calls} or more calls each)")
    print(f"{'part':<34}{'ours':>10}{'SB3':>10}{'SB3/ours':>10}")
    for name, (mine, theirs) in rows.items():
        print(f"{name:<34}{mine:>10.3f}{theirs:>10.3f}{theirs / mine:>10.2f}")
    # per agent step: an env step, acting on the (1 - epsilon) steps that exploit, a sample and an update per train_freq
    weights = {"env step (agent step)": 1.0, "acting (greedy, batch 1)": 1 - epsilon}
    weights.update(
        {key: 1 / SETTINGS["train_freq"] for key in ("replay sample (batch 32)", "gradient step (batch 32)")}
    )
    mine, theirs = (sum(rows[key][i] * weight for key, weight in weights.items()) for i in (0, 1))
    print(
        f"these parts per agent step: ours {mine:.2f} ms, SB3 {theirs:.2f} ms: {theirs / mine:.2f}x, the ratio the "
        "training loop would show if it cost nothing else"
    )


# the Pong recipe's flags, each alone on top of the vanilla settings, then all together (`pong-cpu`)
FLAG_VARIANTS = {
    "vanilla (Nature CNN, 1-step, no Double)": {},
    "+ Double DQN": {"double_dqn": True},
    "+ dueling head": {"dueling": True},
    "+ 3-step returns": {"n_step": 3},
    "pong-cpu (all three)": {"double_dqn": True, "dueling": True, "n_step": 3},
    "pong-cpu + bf16 autocast": {"double_dqn": True, "dueling": True, "n_step": 3, "autocast": "bf16"},
}


def flag_costs(calls: int, rounds: int, seed: int) -> None:
    """CPU milliseconds per batch-32 gradient step and per acting forward pass of our DQN, for each of
    the Pong recipe's flags (what the flag costs; what it buys in learning is a matter of long runs)."""
    from agents.dqn import DQN
    from agents.dqn.atari import ATARI_SETTINGS
    from agents.wrappers.atari import make_atari_env

    env = make_atari_env(GAME)
    obs, _ = env.reset(seed=seed)
    timers = {}
    for name, flags in FLAG_VARIANTS.items():
        config = dict(ATARI_SETTINGS, buffer_size=2000, learning_starts=10**9, num_threads=1, device="cpu")
        agent = DQN(env, {**config, **flags}, seed=seed)
        agent.train(env, 600, progress=False)  # fills the buffer; no updates before learning_starts
        batch = agent._to_tensors(agent.replay.sample(32, agent.rng))
        n = max(3, calls // 10) if flags.get("autocast") == "bf16" else calls
        timers[name] = (
            lambda a=agent, b=batch, n=n: _per_call_ms(lambda: a._gradient_step(*b), n),
            lambda a=agent, n=n: _per_call_ms(lambda: a.act(obs), n * 4),
        )
    best: dict[str, list[float]] = {name: [float("inf")] * 2 for name in timers}
    for _ in range(rounds):  # interleaved rounds, the fastest of each: load from other processes hits all alike
        for name, (update, acting) in timers.items():
            best[name] = [min(best[name][0], update()), min(best[name][1], acting())]
    print(f"\nflag costs: CPU ms per call (fastest of {rounds} rounds), our DQN on {GAME}, torch threads 1")
    print(f"{'settings':<44}{'gradient step':>14}{'acting':>10}")
    for name, (update_ms, acting_ms) in best.items():
        print(f"{name:<44}{update_ms:>14.1f}{acting_ms:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="agent steps for each contender")
    parser.add_argument("--rounds", type=int, default=4, help="chunks the steps are cut into, run in turn")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--buffer", type=int, default=20_000, help="replay buffer size (transitions)")
    parser.add_argument("--epsilon", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", action="store_true", help="then time the parts of a training step")
    parser.add_argument(
        "--flag-costs", action="store_true", help="only time our gradient step under each flag of the Pong recipe"
    )
    args = parser.parse_args()
    if args.flag_costs:
        torch.set_num_threads(1)
        flag_costs(calls=20, rounds=3, seed=args.seed)
        return
    if args.steps < args.rounds or args.rounds < 1:
        parser.error("--steps must be at least --rounds, and --rounds at least 1")
    torch.set_num_threads(1)
    contenders = {"ours": ours, "SB3": sb3}
    made = {
        name: make(args.steps, args.learning_starts, args.buffer, args.epsilon, args.seed)
        for name, make in contenders.items()
    }
    chunks = [args.steps // args.rounds + (i < args.steps % args.rounds) for i in range(args.rounds)]
    totals = {name: [0.0, 0.0] for name in made}
    print(
        f"{GAME}: {args.steps} agent steps each in {args.rounds} interleaved rounds, learning from step "
        f"{args.learning_starts}, torch threads {torch.get_num_threads()}"
    )
    for index, chunk in enumerate(chunks):
        for name, (run, *_) in made.items():
            wall, cpu = _timed(run, chunk)
            totals[name][0] += wall
            totals[name][1] += cpu
            print(
                f"  round {index + 1}: {name:<5} {chunk} steps: {chunk / wall:7.1f} agent steps/s "
                f"[{chunk / cpu:7.1f} per CPU s]",
                flush=True,
            )
    print(f"\n{'':<6}{'agent steps/s':>16}{'per CPU second':>16}")
    rates = {name: (args.steps / wall, args.steps / cpu) for name, (wall, cpu) in totals.items()}
    for name, (wall, cpu) in rates.items():
        print(f"{name:<6}{wall:>16.1f}{cpu:>16.1f}")
    ratio_wall, ratio_cpu = (rates["ours"][i] / rates["SB3"][i] for i in (0, 1))
    print(f"ours / SB3: {ratio_wall:.2f} wall clock [{ratio_cpu:.2f} per CPU second] (target >= 1.5)")
    if args.parts:
        parts(made["ours"][1], made["ours"][2], made["SB3"][1], made["SB3"][2], 50, args.epsilon)


if __name__ == "__main__":
    main()
