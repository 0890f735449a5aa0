"""Reinforcement learning on Spark: CartPole-v1 balanced by a policy gradient, episodes played on the executors.

REINFORCE with a learned baseline (gymnasium's CartPole-v1, pure Python, no
download). The policy and the baseline are small engine networks; the loss
of a batch of steps is the policy-gradient loss -mean(log pi(a|s) * (G - V(s)))
plus the baseline's squared error, and its gradient is ``tf.gradients`` of
that loss, built once on the driver by tensorframes' training compiler.

Each update is one Spark job: the current weights ship to the tasks, each
task plays its share of the update's episodes (every episode seeded by
(seed, update, episode), so the episodes don't depend on how many tasks
play them), and returns the sums of loss and gradients over its steps, as a
``tfs.train`` replica does (``TrainingSession.sums``); the driver adds them
in task order and applies the averaged update (``TrainingSession.apply``),
exactly as ``tfs.train``'s driver mode. Every ``--eval-every`` updates the
greedy policy plays 100 evaluation episodes; training stops once their mean
return reaches 475 (CartPole-v1's "solved" threshold), and 100 more
episodes on other seeds give the reported return. Last, a few more updates
from the trained policy (long episodes) are timed with the episodes played
by 1 task and by 2 (1 vs 2 executor cores), and must give the same weights.

    python examples/09_reinforcement_learning.py [--updates 300] [--episodes 16] [--master URL]
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Iterator

import gymnasium as gym
import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import SparkSession

import _common
import engine as tf
import tensorframes as tfs
from engine.layers import Dense
from tensorframes.frames import columns_of
from tensorframes.training.allreduce import add_in_order
from tensorframes.training.program import TrainingProgram, compile_training
from tensorframes.training.replica import TrainingSession
from tensorframes.training.results import RELAYED, SCHEMA, payloads, result_batch

SOLVED = 475.0  # CartPole-v1's reward threshold: the mean return over 100 episodes
GAMMA = 0.99
EVAL_EPISODES = 100
# One step of an episode: what the loss reads, as DataFrame columns (tfs.block types the placeholders).
STEP = pd.DataFrame({"observation": [np.zeros(4)], "action": [0], "reward_to_go": [0.0]})


def build_loss(hidden: int) -> tuple[tf.Tensor, tf.Tensor]:
    """(the loss of a batch of steps, the policy's action probabilities), in the default graph."""
    observation = tfs.block(STEP, "observation")
    action, reward_to_go = tfs.block(STEP, "action"), tfs.block(STEP, "reward_to_go")
    with tf.name_scope("policy"):
        logits = Dense(2, seed=1).linear(Dense(hidden, activation="tanh", seed=0)(observation))
    with tf.name_scope("baseline"):
        value = Dense(1, seed=3).linear(Dense(hidden, activation="tanh", seed=2)(observation))[:, 0]
    log_pi = tf.reduce_sum(tf.nn.log_softmax(logits) * tf.one_hot(action, 2, dtype=tf.float64), axis=1)
    advantage = reward_to_go - tf.stop_gradient(value)
    loss = -tf.reduce_mean(log_pi * advantage) + 0.5 * tf.reduce_mean(tf.square(reward_to_go - value))
    return loss, tf.nn.softmax(logits, name="probabilities")


TRAINING, EVALUATION = 0, 1


def episode_seed(seed: int, kind: int, round_: int, episode: int) -> int:
    """The seed of one episode (its start state and its action draws): of ``kind`` TRAINING or
    EVALUATION, in update or evaluation round ``round_``."""
    return int(np.random.SeedSequence([seed, kind, round_, episode]).generate_state(1)[0])


def play(session: tf.Session, probabilities: str, seeds: list[int], greedy: bool) -> dict[str, np.ndarray]:
    """Play one episode per seed, all in lockstep (one policy evaluation per time step for all).

    The steps' observations, actions and discounted rewards-to-go, and each episode's return.
    """
    graph = session.graph
    probs, observation = graph.get_tensor_by_name(probabilities), graph.get_tensor_by_name("observation:0")
    envs = [gym.make("CartPole-v1") for _ in seeds]
    rngs = [np.random.default_rng(s) for s in seeds]
    state = [env.reset(seed=s)[0].astype(np.float64) for env, s in zip(envs, seeds)]
    trajectories: list[list[tuple[np.ndarray, int, float]]] = [[] for _ in seeds]
    playing = list(range(len(seeds)))
    while playing:
        p = session.run(probs, {observation: np.stack([state[i] for i in playing])})
        still = []
        for i, pi in zip(playing, p):
            a = int(np.argmax(pi)) if greedy else int(rngs[i].random() < pi[1])
            obs, reward, terminated, truncated, _ = envs[i].step(a)
            trajectories[i].append((state[i], a, float(reward)))
            state[i] = obs.astype(np.float64)
            if not (terminated or truncated):
                still.append(i)
        playing = still
    return _steps(trajectories)


def _steps(trajectories: list[list[tuple[np.ndarray, int, float]]]) -> dict[str, np.ndarray]:
    to_go = []
    for steps in trajectories:
        g, out = 0.0, []
        for _, _, reward in reversed(steps):
            g = reward + GAMMA * g
            out.append(g)
        to_go.extend(reversed(out))
    flat = [s for steps in trajectories for s in steps]
    return {"observation": np.array([s[0] for s in flat]).reshape(-1, 4),
            "action": np.array([s[1] for s in flat], dtype=np.int64),
            "reward_to_go": np.array(to_go, dtype=np.float64),
            "returns": np.array([sum(s[2] for s in steps) for steps in trajectories])}


# -- on the executors ------------------------------------------------------------------------
def episodes_task(program: TrainingProgram, parameters: dict, seeds: list[int], tasks: int, greedy: bool,
                  batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Task p plays episodes p, p + tasks, ...: the sums of its steps (unless greedy) and their returns."""
    for _ in batches:  # one row per task: which task this is comes from the partition id
        pass
    partition = TaskContext.get().partitionId()
    try:
        session = TrainingSession(program)
        session.load(parameters)
        steps = play(session.session, "probabilities:0", seeds[partition::tasks], greedy)
        sums = np.zeros(0) if greedy else session.sums([steps[f.column] for f in program.feeds])
    except RELAYED as e:
        yield result_batch(partition, error=e)
        return
    yield result_batch(partition, np.concatenate([sums, steps["returns"]]).tobytes())


# -- on the driver ---------------------------------------------------------------------------
class Trainer:
    """The driver's training session (weights and Adam's state) and the Spark job of each update."""

    def __init__(self, spark: SparkSession, program: TrainingProgram, episodes: int, seed: int) -> None:
        self.spark, self.program, self.episodes, self.seed = spark, program, episodes, seed
        self.session = TrainingSession(program)

    def run(self, seeds: list[int], tasks: int, greedy: bool) -> list[np.ndarray]:
        """One job: each task's payload as float64 (sums, then returns)."""
        task = partial(episodes_task, self.program, self.session.parameters(), seeds, tasks, greedy)
        found = payloads(self.spark.range(tasks, numPartitions=tasks).mapInArrow(task, SCHEMA).toArrow())
        return [np.frombuffer(found[p]) for p in range(tasks)]

    def update(self, update: int, tasks: int) -> tuple[float, float]:
        """Play the update's episodes and apply the averaged gradient; (mean return, loss)."""
        seeds = [episode_seed(self.seed, TRAINING, update, e) for e in range(self.episodes)]
        parts = self.run(seeds, tasks, greedy=False)
        width = self.session.width
        loss, _ = self.session.apply(add_in_order([part[:width] for part in parts]))
        return float(np.mean(np.concatenate([part[width:] for part in parts]))), loss

    def evaluate(self, tag: int, tasks: int) -> float:
        """The greedy policy's mean return over 100 episodes (seed set ``tag``, apart from training's)."""
        seeds = [episode_seed(self.seed, EVALUATION, tag, e) for e in range(EVAL_EPISODES)]
        return float(np.mean(np.concatenate(self.run(seeds, tasks, greedy=True))))


def compile_program(hidden: int, learning_rate: float) -> TrainingProgram:
    """The training graph (policy, baseline, tf.gradients of the loss, Adam) as tfs.train ships it."""
    with tf.Graph().as_default():
        loss, _ = build_loss(hidden)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return compile_training(loss, columns_of(STEP), tf.train.AdamOptimizer(learning_rate), None, None, sess)


def train(trainer: Trainer, updates: int, eval_every: int, tasks: int) -> tuple[list[tuple], int, float]:
    """Update until the greedy policy is solved or ``updates`` ran; (curve, updates done, seconds)."""
    curve, start = [], time.perf_counter()
    for update in range(updates):
        mean_return, loss = trainer.update(update, tasks)
        check = trainer.evaluate(0, tasks) if (update + 1) % eval_every == 0 else float("nan")
        curve.append((update + 1, mean_return, check, loss))
        if (update + 1) % eval_every == 0:
            print(f"update {update + 1:4d}: training episodes' mean return {mean_return:6.1f}, "
                  f"greedy policy {check:6.1f}")
        if check >= SOLVED:
            break
    return curve, len(curve), time.perf_counter() - start


def time_cores(trained: Trainer, done: int, timed: int, episodes: int) -> dict[int, tuple[float, dict]]:
    """``timed`` more updates of ``episodes`` episodes after the ``done`` ones, from the trained state
    (long episodes: the work that parallelism speeds up), with the episodes played by 1 and by 2
    tasks: {tasks: (seconds, weights after)}."""
    results = {}
    for tasks in (1, 2):
        trainer = Trainer(trained.spark, trained.program, episodes, trained.seed)
        trainer.session.load(trained.session.state())
        start = time.perf_counter()
        for update in range(done, done + timed):
            trainer.update(update, tasks)
        results[tasks] = (time.perf_counter() - start, trainer.session.parameters())
    return results


def save_curve(curve: list[tuple], stem: Path) -> Path:
    updates, returns, checks, _ = (list(c) for c in zip(*curve))

    def draw(ax) -> None:
        ax.plot(updates, returns, label="training episodes (sampled actions)")
        ax.plot(updates, checks, "o", label=f"greedy policy, {EVAL_EPISODES} episodes")
        ax.axhline(SOLVED, color="grey", linestyle="--", label=f"solved ({SOLVED:.0f})")
        ax.set(xlabel="update", ylabel="mean return", title="CartPole-v1, REINFORCE with baseline on Spark")
        ax.legend(loc="upper left")

    return _common.save_plot(stem, {"update": updates, "mean_return": returns, "greedy_return": checks}, draw)


def main() -> None:
    args = _common.parse_args(
        __doc__, updates=(300, 4, "updates at most"), episodes=(16, 8, "episodes per update"),
        hidden=(32, 16, "hidden units of the policy and of the baseline"),
        learning_rate=(0.01, 0.01, "Adam's learning rate"), eval_every=(10, 5, "updates between evaluations"),
        timed=(5, 1, "updates timed with 1 and with 2 tasks"),
        timed_episodes=(64, 8, "episodes per timed update"), seed=(0, 0, "seed of every episode"),
        out=(Path("cartpole_returns"), Path("cartpole_returns"), "learning curve file, without suffix"))
    spark = _common.start_spark(args, "09_reinforcement_learning")
    tasks = spark.sparkContext.defaultParallelism
    program = compile_program(args.hidden, args.learning_rate)
    trainer = Trainer(spark, program, args.episodes, args.seed)
    curve, updates, seconds = train(trainer, args.updates, args.eval_every, tasks)
    eval_return = trainer.evaluate(1, tasks)  # fresh seeds: not the episodes that stopped the training
    path = save_curve(curve, args.out)
    timed = time_cores(trainer, updates, args.timed, args.timed_episodes)
    difference = max(float(np.max(np.abs(timed[1][1][k] - timed[2][1][k]))) for k in timed[1][1])

    _common.print_table(f"CartPole-v1: {updates} updates of {args.episodes} episodes in {tasks} tasks, "
                        f"{seconds:.1f} s; learning curve: {path}",
                        ["", "mean return"],
                        [("first update's episodes", curve[0][1]), ("last update's episodes", curve[-1][1]),
                         (f"greedy policy, {EVAL_EPISODES} fresh episodes", eval_return)])
    _common.print_table(f"{args.timed} more updates of {args.timed_episodes} episodes from the trained policy, "
                        f"played by 1 or 2 tasks "
                        f"(weights differ by at most {difference:.1e})",
                        ["tasks (executor cores)", "seconds", "seconds per update"],
                        [(n, s, s / args.timed) for n, (s, _) in timed.items()])
    _common.print_result(eval_return=eval_return, updates=updates, solved=eval_return >= SOLVED,
                         first_return=curve[0][1], last_return=curve[-1][1], seconds=seconds,
                         seconds_1_task=timed[1][0], seconds_2_tasks=timed[2][0], tasks_difference=difference,
                         curve_file=str(path))


if __name__ == "__main__":
    main()
