"""fleetready's engine, in layers that import downward only: config → transport → gather →
probe → judge → outcome; reports/ and remediations/ above them (docs/DESIGN.md)."""

__version__ = "0.6.0"
