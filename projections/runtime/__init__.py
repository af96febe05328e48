"""The projection runtime: the read store, the runner, the embedded thread, the registry."""
