"""Folder put first on ``PYTHONPATH`` of graded notebooks; holds ``sitecustomize.py``."""
