"""serving: a model server for engine.saved_model directories (no Spark, no JVM).

`tensorframes-serve` (serving.cli) serves numbered versions of saved models
over TensorFlow Serving's REST API and the Open Inference Protocol (REST and
gRPC), merging concurrent requests into one run. The modules:

- repository: versions on disk, loading (the engine's loader), hot swap, unload
- batching: the bounded queue and the threads that run merged batches
- tensors: strict JSON / raw bytes to numpy, checked against the signature
- tfserving, rest: TF Serving's REST API and the ASGI app serving both REST APIs
- oip: the Open Inference Protocol's codec, .proto and gRPC service
- metrics, server, cli: Prometheus metrics, the server object, the command

It imports the engine only, never pyspark or tensorframes.
"""
__version__ = "0.1.0"
