"""Fake model servers on loopback, importable from tests (`from fakes import FakeOllama`)."""

from .ollama_server import FakeOllama, free_port
from .openai_server import FakeOpenAI

__all__ = ["FakeOllama", "FakeOpenAI", "free_port"]
