"""tensorframes: dataflow graphs (``engine``) run over Spark DataFrames via Arrow."""
