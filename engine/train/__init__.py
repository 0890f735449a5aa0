"""Optimizers, the global step and training loops (TensorFlow 1.x's `tf.train`).

>>> w = tf.Variable(1.0)
>>> train_op = tf.train.AdamOptimizer(0.01).minimize(tf.square(w), global_step=tf.train.get_or_create_global_step())
"""
from .adadelta import AdadeltaOptimizer
from .adagrad import AdagradOptimizer
from .adam import AdamOptimizer
from .ftrl import FtrlOptimizer
from .gradient_descent import GradientDescentOptimizer
from .lbfgs import LBFGSOptimizer, LBFGSState, backtrack, lbfgs_direction, lbfgs_step, sufficient_decrease
from .learning_rate_decay import (exponential_decay, inverse_time_decay, natural_exp_decay, piecewise_constant,
                                  polynomial_decay)
from .loop import EarlyStopping, train_until_converged
from .momentum import MomentumOptimizer
from .optimizer import Optimizer
from .rmsprop import RMSPropOptimizer
from .saver import (CheckpointState, Saver, checkpoint_exists, get_checkpoint_state, import_meta_graph,
                    latest_checkpoint, list_variables, load_variable)
from ..summary.writer import summary_iterator
from ..tf_graphdef.io import write_graph
from .training_util import create_global_step, get_global_step, get_or_create_global_step, global_step

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer", "AdadeltaOptimizer",
           "AdamOptimizer", "FtrlOptimizer", "RMSPropOptimizer", "LBFGSOptimizer", "LBFGSState", "lbfgs_step",
           "lbfgs_direction", "sufficient_decrease", "backtrack", "EarlyStopping", "train_until_converged",
           "create_global_step", "get_global_step", "get_or_create_global_step", "global_step",
           "Saver", "CheckpointState", "checkpoint_exists", "get_checkpoint_state", "import_meta_graph",
           "latest_checkpoint", "list_variables", "load_variable", "exponential_decay", "inverse_time_decay",
           "natural_exp_decay", "piecewise_constant", "polynomial_decay",
           "write_graph", "summary_iterator"]
