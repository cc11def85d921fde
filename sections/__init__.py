"""National sections, one package each: languages, laws, routing, branding.

A section is a plugin like any other (entry-point group ``ecrire.plugins``);
adding one takes a new folder here and one entry-point line, no core change.
"""
