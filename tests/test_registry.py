import pytest

from sonotype.errors import ParameterError, RegistryError
from sonotype.registry import Registry


def test_register_get_and_list():
    registry: Registry[object] = Registry("widget")

    @registry.register("b")
    class B:
        pass

    registry.add("a", 1)
    assert registry.names() == ["b", "a"]
    assert registry.get("b") is B
    assert "a" in registry
    assert len(registry) == 2


def test_duplicates_refused_and_unknown_names_listed():
    registry: Registry[int] = Registry("widget")
    registry.add("one", 1)
    with pytest.raises(RegistryError, match="widget 'one' is already registered"):
        registry.add("one", 2)
    with pytest.raises(ParameterError, match="unknown widget 'two'; valid names: one"):
        registry.get("two")


def test_entry_point_group_is_read(monkeypatch):
    class FakeEntryPoint:
        name = "plugin"

        def load(self):
            return "loaded"

    calls = []

    def fake_entry_points(group):
        calls.append(group)
        return [FakeEntryPoint()]

    monkeypatch.setattr("sonotype.registry.entry_points", fake_entry_points)
    registry: Registry[str] = Registry("widget", entry_point_group="sonotype.widgets")
    registry.add("builtin", "x")
    assert registry.names() == ["builtin", "plugin"]
    assert registry.get("plugin") == "loaded"
    assert calls == ["sonotype.widgets"]
