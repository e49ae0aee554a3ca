"""The transfer engine; its public entry points are in `paw.transfer.api`. This package module imports nothing,
so that reading params (which imports `paw.transfer.params`) stays cheap and pulls in no engine code.
"""
