"""Distributed training by synchronous gradient averaging: :func:`train`.

The modules, one concept each:

- :mod:`~tensorframes.training.api`: ``train`` and :class:`TrainResult`.
- :mod:`~tensorframes.training.spec`: how long and on which rows (steps, epochs, batches).
- :mod:`~tensorframes.training.program`: the training graph built on the driver.
- :mod:`~tensorframes.training.replica`: a partition as numpy, its sums, the averaged update.
- :mod:`~tensorframes.training.schedule`: the rows each step reads (seeded mini-batches).
- :mod:`~tensorframes.training.loop`: the step loop and when it stops.
- :mod:`~tensorframes.training.driver_mode`: one Spark job per step.
- :mod:`~tensorframes.training.barrier_mode`: one barrier stage for the whole training.
- :mod:`~tensorframes.training.options`: deadlines, allreduce scheme and spilling of barrier mode.
- :mod:`~tensorframes.training.rendezvous`: how the tasks of one stage attempt meet.
- :mod:`~tensorframes.training.allreduce`: the socket allreduce of barrier mode (star and ring).
- :mod:`~tensorframes.training.spill`: a partition larger than memory, in a memory-mapped Arrow file.
- :mod:`~tensorframes.training.channel`: the driver's server: joins, live progress from a barrier stage.
- :mod:`~tensorframes.training.progress`: logging, callback and checkpoints on the driver.
- :mod:`~tensorframes.training.snapshot`: training state as bytes and checkpoint files.
- :mod:`~tensorframes.training.results`: task results, and errors relayed instead of retried.
- :mod:`~tensorframes.training.faults`: hooks that fail a task once (to test retries).
"""

from tensorframes.training.api import TrainResult, train
from tensorframes.training.options import Deadlines
from tensorframes.training.progress import StepInfo

__all__ = ["train", "TrainResult", "StepInfo", "Deadlines"]
