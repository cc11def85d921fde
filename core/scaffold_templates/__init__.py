"""The files ``flask plugins new`` writes, as ``string.Template`` texts.

They end in ``.txt`` so the package data rules ship them and no tool reads
them as Python, TOML or Jinja before ``$name`` and the like are filled in.
"""
