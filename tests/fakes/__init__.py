"""Fake model servers on loopback, importable from tests (`from fakes import FakeOllama`)."""

from .ollama_server import FakeOllama, free_port

__all__ = ["FakeOllama", "free_port"]
