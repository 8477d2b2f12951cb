"""The local Azure emulator: a real HTTP server that behaves like Azure where clients notice
(ARM ContainerService and CognitiveServices, the custom-model registry, a blob endpoint and
inference). Shipped in the package so examples, docs and tests run with no subscription."""
