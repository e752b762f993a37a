"""Shared pytest setup: the lab's Python helpers are importable as plain modules."""
import os
import sys

LAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab")
for sub in ("", "bundles", "datagen"):
    path = os.path.join(LAB, sub)
    if path not in sys.path:
        sys.path.insert(0, path)
