"""serving: a model server for engine.saved_model directories (no Spark, no JVM)."""
__version__ = "0.1.0"
