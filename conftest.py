"""fleetready's pytest plugin: fixtures/plugin.py (its options: fixtures/options.py, loaded
early by pytest.ini)."""

pytest_plugins = ["fixtures.plugin"]
