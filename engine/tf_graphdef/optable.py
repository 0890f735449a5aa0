"""Which TensorFlow op types are which engine op types, for import and export alike.

Ops listed here differ from their TensorFlow twin at most in name and carry
only the element-type attribute `T` (ops whose operands TensorFlow passes as
constant inputs and the engine as attributes have their own rules in
`importer` and `exporter`).
"""
from __future__ import annotations

from typing import Callable


def registrar(table: dict) -> Callable:
    """A decorator `@rule("A", "B")` that enters the function in `table` under each op type."""
    def rule(*op_types: str) -> Callable:
        def register(fn: Callable) -> Callable:
            for t in op_types:
                table[t] = fn
            return fn
        return register
    return rule

UNARY = ("Abs", "Ceil", "Cos", "Elu", "Exp", "Floor", "Identity", "Log", "Log1p", "Neg", "Reciprocal", "Relu",
         "Round", "Rsqrt", "Sigmoid", "Sign", "Sin", "Softplus", "Sqrt", "Square", "StopGradient", "Tanh")
BINARY = ("Add", "Equal", "FloorDiv", "FloorMod", "Greater", "GreaterEqual", "Less", "LessEqual", "Maximum",
          "Minimum", "Mul", "NotEqual", "Pow", "RealDiv", "SquaredDifference", "Sub")
#: ops with no `T` attribute
LOGICAL = ("LogicalAnd", "LogicalNot", "LogicalOr")
#: TensorFlow names the engine imports as another of its ops
IMPORT_ALIASES = {"AddV2": "Add", "Inv": "Reciprocal", "Snapshot": "Identity", "PreventGradient": "StopGradient"}
#: engine names exported as the op TensorFlow 1.15+ itself writes for them
EXPORT_NAMES = {"Add": "AddV2"}
#: reductions: TensorFlow's `reduction_indices` input and `keep_dims` attribute
REDUCTIONS = ("All", "Any", "Max", "Mean", "Min", "Prod", "Sum")
