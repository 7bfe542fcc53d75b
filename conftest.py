"""fleetready's pytest plugin lives in fixtures/plugin.py (also loaded early by pytest.ini)."""

pytest_plugins = ["fixtures.plugin"]
