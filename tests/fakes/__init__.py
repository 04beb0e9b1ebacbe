"""Fake model servers on loopback, importable from tests (`from fakes import FakeOllama`)."""

from .ollama_server import FakeOllama
from .openai_server import FakeOpenAI
from .server import free_port

__all__ = ["FakeOllama", "FakeOpenAI", "free_port"]
