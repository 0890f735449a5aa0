"""What the examples share: command line, Spark session, data sets, tables and the RESULT line.

Not part of the tensorframes API. The examples import it as ``_common``: the
folder of the running script is on ``sys.path`` under ``python`` and under
``spark-submit`` alike. It runs on the driver only (nothing here is shipped
to the executors).
"""
from __future__ import annotations

import argparse
import atexit
import csv
import json
import math
from functools import reduce
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import tensorframes as tfs

DATA = Path(__file__).resolve().parent / "data"


def parse_args(doc: str, **options: tuple[Any, Any, str]) -> argparse.Namespace:
    """The command line: ``--master``, ``--smoke`` and the example's own options.

    Each option is ``name=(default, smoke value, help)``, spelled ``--na-me`` for ``na_me``; with ``--smoke``
    (the tiny run CI checks) options not given take their smoke value.
    """
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--master", help="Spark master URL (default: local[*], or the one given to spark-submit)")
    p.add_argument("--smoke", action="store_true", help="a tiny, fast run (what CI runs)")
    for name, (default, smoke, text) in options.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default),
                       help=f"{text} (default: {default}; --smoke: {smoke})")
    args = p.parse_args()
    for name, (default, smoke, _) in options.items():
        if getattr(args, name) is None:
            setattr(args, name, smoke if args.smoke else default)
    return args


def start_spark(args: argparse.Namespace, app_name: str, **conf: str) -> SparkSession:
    """The Spark session: local with the settings in conf/, or ``--master`` (spark-submit's by default).

    It is stopped when the script ends: executors of a cluster then shut down
    in order instead of logging errors about a driver that went away.
    """
    spark = tfs.get_spark(app_name, master=args.master, **conf)
    atexit.register(spark.stop)
    return spark


def load_csv(spark: SparkSession, name: str) -> DataFrame:
    """A data set of examples/data as a DataFrame, with a row number ``id``.

    The file is read on the driver (pandas) and handed to Spark, so executors
    on a cluster need no access to this folder.
    """
    return spark.createDataFrame(pd.read_csv(DATA / name).reset_index(names="id"))


def split(df: DataFrame, test_percent: int = 20) -> tuple[DataFrame, DataFrame]:
    """Training and held-out rows, chosen by a hash of ``id``.

    Unlike ``randomSplit``'s, this split doesn't depend on the partitioning:
    any master puts the same rows on the same side.
    """
    bucket = F.abs(F.xxhash64("id")) % 100
    return df.where(bucket >= test_percent), df.where(bucket < test_percent)


def repeat(df: DataFrame, times: int) -> DataFrame:
    """``df`` ``times`` times over, for bigger runs (a mean loss over the copies is the same loss)."""
    return reduce(DataFrame.unionAll, [df] * times)


def fit_features(train: DataFrame, numeric: list[str], categorical: list[str]) -> PipelineModel:
    """Spark ML feature preparation, fitted on the training rows only.

    Categorical strings are indexed and one-hot encoded, all columns are
    assembled into one vector and standardized into column ``features``
    (the optimizers then see every feature on the same scale).
    """
    indexed = [f"{c}_index" for c in categorical]
    onehot = [f"{c}_onehot" for c in categorical]
    encoding = [
        StringIndexer(inputCols=categorical, outputCols=indexed, stringOrderType="alphabetAsc"),
        # dropLast (the default) keeps k-1 columns for k levels: with an
        # intercept, the coefficients are then unique.
        OneHotEncoder(inputCols=indexed, outputCols=onehot),
    ] if categorical else []
    return Pipeline(stages=[
        *encoding,
        VectorAssembler(inputCols=numeric + onehot, outputCol="raw_features"),
        StandardScaler(inputCol="raw_features", outputCol="features", withMean=True, withStd=True),
    ]).fit(train)


def churn_data(spark: SparkSession) -> tuple[DataFrame, DataFrame]:
    """Telecom customers, (training rows, held-out rows): ``features`` and ``label`` (1.0: churned).

    ``state`` is left out: 51 levels of about a hundred customers each mostly
    let a model fit noise. The ``*_charge`` columns are too: each is its
    minutes column times a fixed rate.
    """
    numeric = ["account_length", "number_vmail_messages", "total_day_minutes", "total_day_calls",
               "total_eve_minutes", "total_eve_calls", "total_night_minutes", "total_night_calls",
               "total_intl_minutes", "total_intl_calls", "number_customer_service_calls"]
    categorical = ["area_code", "international_plan", "voice_mail_plan"]
    df = load_csv(spark, "mlc_churn.csv").withColumn("label", (F.col("churn") == "yes").cast("double"))
    train, test = split(df)
    features = fit_features(train, numeric, categorical)
    return features.transform(train), features.transform(test)


def feature_count(df: DataFrame) -> int:
    """The length of the ``features`` vectors (from the metadata VectorAssembler writes)."""
    return int(df.schema["features"].metadata["ml_attr"]["num_attrs"])


def for_training(df: DataFrame, columns: Sequence[str]) -> DataFrame:
    """``columns`` of ``df``, cached, in one partition per task slot.

    Barrier training runs all partitions at once, so there may be no more of
    them than slots.
    """
    spark = df.sparkSession
    return df.select(*columns).repartition(spark.sparkContext.defaultParallelism).cache()


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows under a title as an aligned text table; numbers right-aligned, one format per column."""
    columns = [_format_column([row[i] for row in rows]) for i in range(len(headers))]
    widths = [max(len(h), *(len(c) for c in column)) for h, column in zip(headers, columns)]
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for i in range(len(rows)):
        print(line([column[i] for column in columns]))


def print_rows(title: str, df: DataFrame, n: int = 3) -> None:
    """The first ``n`` rows of ``df`` as a table (array cells to 4 significant digits)."""
    rows = [[_cell(v) for v in row] for row in df.limit(n).collect()]
    print_table(title, df.columns, rows)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(format(v, ".4g") for v in value) + "]"
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _format_column(values: list[Any]) -> list[str]:
    """Numbers with thousands separators and the decimals the column's magnitude calls for."""
    numbers = [float(v) for v in values if _is_number(v) and math.isfinite(v)]
    if all(v.is_integer() for v in numbers):
        spec = ",.0f"
    elif max(abs(v) for v in numbers) >= 100:
        spec = ",.2f"
    elif max(abs(v) for v in numbers) >= 1e-3:
        spec = ".4f"
    else:
        spec = ".3e"
    return [format(v, spec) if _is_number(v) else str(v) for v in values]


def save_plot(stem: Path, columns: dict[str, Sequence[Any]], draw: Callable[[Any], None]) -> Path:
    """A figure as ``stem.png``, drawn by ``draw(axes)``, when matplotlib is installed; else ``columns``
    (equal lengths, one CSV column each) as ``stem.csv``. The path written."""
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        path = stem.with_suffix(".csv")
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(list(columns))
            out.writerows(zip(*columns.values()))
        return path
    fig, ax = plt.subplots(figsize=(8, 5))
    draw(ax)
    path = stem.with_suffix(".png")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def print_result(**figures: Any) -> None:
    """The run's key figures as one line, ``RESULT {json}``, for tests and scripts to read."""
    print("RESULT " + json.dumps(figures, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"RESULT figures must be numbers, strings or arrays, found {type(value).__name__}")
