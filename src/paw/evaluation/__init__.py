"""The evaluation engine; its public entry points are in `paw.evaluation.api`. This package module imports nothing,
so that reading params (which imports `paw.evaluation.params`) stays cheap and pulls in no engine code.
"""
