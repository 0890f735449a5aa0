"""Demand forecasting on Spark: next month's sales of electrical equipment in the euro area.

The series is Eurostat's monthly turnover index of euro-area manufacturers of
electrical equipment (1995-2016, not seasonally adjusted; shipped with
statsmodels, see examples/data/README.md): what the industry sells, with a
strong yearly pattern (the August dip) and the 2009 crash. Spark SQL window
functions build the features of each month from the months before it: the
year-over-year growth of the last three months and of the same month a year
ago, its mean over the last quarter, and the calendar month. The models
forecast this month's year-over-year growth, hence its level (a year ago
times the growth), one month ahead:

- a linear model trained with ``tfs.train`` (L-BFGS, exact least squares),
- a small network, ``engine.learn.DNNRegressor`` trained on the DataFrame
  through ``tensorframes.ml.learn_stage`` (``tfs.train`` again), for as
  many epochs as did best on the last training months (validation),
- the seasonal-naive forecast (same month last year) and Spark MLlib's
  LinearRegression and GBTRegressor on the same features.

The last ``--test-months`` months are held out; the table gives MAE and
MAPE there, and the forecasts go to a PNG (a CSV without matplotlib).

    python examples/08_demand_forecasting.py [--test-months 24] [--epochs 25,50,100,200] [--master URL]
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from pyspark.ml.regression import GBTRegressor, LinearRegression
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from statsmodels.datasets import elec_equip

import _common
import engine as tf
import tensorframes as tfs
from engine.layers import Dense
from engine.learn import DNNRegressor
from tensorframes.ml import learn_stage

LAGS = (1, 2, 3, 12)  # months back whose year-over-year growth is a feature


def load_series(spark: SparkSession) -> DataFrame:
    """Columns ``month`` (date) and ``sales`` (the index, 2015 = 100), one row per month."""
    series = elec_equip.load_pandas().data.iloc[:, 0]
    frame = pd.DataFrame({"month": series.index.date, "sales": series.to_numpy(dtype=float)})
    return spark.createDataFrame(frame)


def with_features(months: DataFrame) -> DataFrame:
    """Lag and calendar features by window functions over the months in order.

    ``growth`` is the year-over-year growth in percent (100 * log(sales / sales a year ago)), the
    target; ``a_year_ago`` turns a forecast growth back into sales. Months without a full history
    (the first two years) are dropped.
    """
    # One series, so the window orders all rows (Spark moves them to one partition; 257 rows).
    ordered = Window.orderBy("month")
    df = months.withColumn("a_year_ago", F.lag("sales", 12).over(ordered))
    df = df.withColumn("growth", 100 * F.log(F.col("sales") / F.col("a_year_ago")))
    for k in LAGS:
        df = df.withColumn(f"growth_lag_{k}", F.lag("growth", k).over(ordered))
    df = df.withColumn("growth_last_quarter", F.avg("growth").over(ordered.rowsBetween(-3, -1)))
    for m in range(2, 13):  # January is the base month
        df = df.withColumn(f"month_{m}", (F.month("month") == m).cast("double"))
    return df.where(F.col(f"growth_lag_{max(LAGS)}").isNotNull())


FEATURES = [f"growth_lag_{k}" for k in LAGS] + ["growth_last_quarter"] + [f"month_{m}" for m in range(2, 13)]


def split_at(df: DataFrame, first: date) -> tuple[DataFrame, DataFrame]:
    """(the months before ``first``, the months from ``first`` on)."""
    return df.where(F.col("month") < first), df.where(F.col("month") >= first)


def months_before(month: date, months: int) -> date:
    """The first day of the month ``months`` months before ``month``."""
    return (pd.Timestamp(month) - pd.DateOffset(months=months)).date()


def linear_forecaster(df: DataFrame, steps: int) -> tuple[tf.Graph, tf.Session, tf.Tensor]:
    """A linear model of ``growth`` trained with tfs.train (L-BFGS); its graph, session and prediction."""
    graph = tf.Graph()
    with graph.as_default():
        predicted = tf.identity(Dense(1, seed=0).linear(tfs.block(df, "features"))[:, 0], name="prediction")
        loss = tf.losses.mean_squared_error(labels=tfs.block(df, "growth"), predictions=predicted)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        tfs.train(loss, df, tf.train.LBFGSOptimizer(), steps=steps, tol=1e-12, session=sess)
    return graph, sess, predicted


def network_stage(epochs: int, mode: str):
    """The small network: engine.learn's DNNRegressor, trained on the DataFrame by tfs.train (learn_stage)."""
    return learn_stage(DNNRegressor(hidden_units=(8,), activation="tanh", optimizer="adam", learning_rate=0.01,
                                    batch_size=32, steps=None, epochs=epochs, seed=0), labelCol="growth", mode=mode)


def choose_epochs(train: DataFrame, test_from: date, candidates: list[int], months: int, mode: str) -> int:
    """The network's training length with the lowest MAE on the last ``months`` training months (those
    before ``test_from``), trained on the months before them (a network this size overfits 200 months
    if trained too long)."""
    if len(candidates) == 1:
        return candidates[0]
    earlier, later = split_at(train, months_before(test_from, months))
    earlier = _common.for_training(earlier, earlier.columns)
    found = {n: errors(forecasts(network_stage(n, mode).fit(earlier).transform(later), "f"), ["f"])["f"]["mae"]
             for n in candidates}
    _common.print_table(f"the network's epochs, validated on the last {months} training months",
                        ["epochs", "validation MAE"], list(found.items()))
    return min(found, key=found.get)


def forecasts(scored: DataFrame, name: str) -> DataFrame:
    """``month``, ``sales`` and the sales forecast ``name`` from a column ``prediction`` of growth."""
    return scored.select("month", "sales", (F.col("a_year_ago") * F.exp(F.col("prediction") / 100)).alias(name))


def errors(df: DataFrame, columns: list[str]) -> dict[str, dict[str, float]]:
    """MAE and MAPE of each forecast column against ``sales``, in one Spark aggregation."""
    row = df.agg(*[F.avg(F.abs(F.col(c) - F.col("sales"))).alias(f"{c}_mae") for c in columns],
                 *[F.avg(F.abs(F.col(c) - F.col("sales")) / F.col("sales")).alias(f"{c}_mape") for c in columns]
                 ).first()
    return {c: {"mae": row[f"{c}_mae"], "mape": row[f"{c}_mape"]} for c in columns}


def save_forecasts(history: pd.DataFrame, table: pd.DataFrame, names: list[str], stem: Path) -> Path:
    def draw(ax) -> None:
        ax.plot(history["month"], history["sales"], color="black", label="sales (actual)")
        for name in names:  # MLlib's linear forecasts are tfs.train's: dashed, so both show
            ax.plot(table["month"], table[name], marker=".", label=name,
                    linestyle="--" if name == "mllib_linear" else "-")
        ax.set(xlabel="month", ylabel="turnover index (2015 = 100)",
               title="euro-area electrical equipment: one-month-ahead forecasts of the held-out months")
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))  # beside the plot, off the curves

    return _common.save_plot(stem, {c: table[c].tolist() for c in ["month", "sales", *names]}, draw)


def main() -> None:
    args = _common.parse_args(__doc__, test_months=(24, 24, "months held out at the end"),
                              steps=(100, 30, "L-BFGS steps at most (linear model)"),
                              epochs=("25,50,100,200", "25", "the network's passes over the data to choose "
                                      "from, by validation on the last training months"),
                              trees=(20, 5, "trees of MLlib's GBTRegressor (its default: 20)"),
                              mode=("barrier", "barrier", "how tfs.train runs: barrier or driver"),
                              out=(Path("demand_forecasts"), Path("demand_forecasts"),
                                   "forecast plot, without suffix (.png or .csv is added)"))
    spark = _common.start_spark(args, "08_demand_forecasting")
    months = load_series(spark).cache()
    last = months.agg(F.max("month")).first()[0]
    test_from = months_before(last, args.test_months - 1)
    train, test = split_at(with_features(months).cache(), test_from)
    scaler = _common.fit_features(train, FEATURES, [])  # assembled and standardized on the training months
    columns = ["month", "sales", "a_year_ago", "growth", "features"]
    train = _common.for_training(scaler.transform(train), columns)
    test = scaler.transform(test).select(*columns).cache()

    graph, sess, predicted = linear_forecaster(train, args.steps)
    with graph.as_default(), sess.as_default():
        linear = forecasts(tfs.map_blocks(predicted, test), "linear")
    epochs = choose_epochs(train, test_from, [int(n) for n in args.epochs.split(",")], args.test_months, args.mode)
    network = network_stage(epochs, args.mode).fit(train)
    runs = {"linear": linear, "network": forecasts(network.transform(test), "network")}
    for name, mllib in (("mllib_linear", LinearRegression(labelCol="growth")),
                        ("mllib_gbt", GBTRegressor(labelCol="growth", maxIter=args.trees, seed=0))):
        runs[name] = forecasts(mllib.fit(train).transform(test), name)
    table = test.select("month", "sales", F.col("a_year_ago").alias("seasonal_naive"))
    for name, scored in runs.items():
        table = table.join(scored.drop("sales"), "month")
    table = table.cache()  # every model's forecasts, computed once for the errors, the dates and the plot
    names = ["seasonal_naive", *runs]
    figures = errors(table, names)

    _common.print_table(f"one-month-ahead forecasts of {args.test_months} held-out months ({test_from:%Y-%m} to "
                        f"{last:%Y-%m}); trained on {train.count()} months, {len(FEATURES)} features",
                        ["forecaster", "MAE", "MAPE %"],
                        [(n, f["mae"], 100 * f["mape"]) for n, f in sorted(figures.items(), key=lambda x: x[1]["mae"])])
    history = months.where(F.col("month") >= months_before(test_from, 36)).orderBy("month").toPandas()
    path = save_forecasts(history, table.orderBy("month").toPandas(), names, args.out)
    print(f"\nforecasts: {path}")
    _common.print_result(**figures, test_months=args.test_months, network_epochs=epochs, plot_file=str(path))


if __name__ == "__main__":
    main()
