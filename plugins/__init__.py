"""Built-in plugins: action types, delivery channels and case sources.

Each is registered through the ``ecrire.plugins`` entry-point group exactly
like an outside plugin, and imports only :mod:`core.toolkit`.
"""
