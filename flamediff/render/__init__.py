"""Renderers: data in, ``str`` or ``bytes`` out; none writes a file or prints.

One module per output: :mod:`.terminal`, :mod:`.markdown`, :mod:`.json`, :mod:`.csv`,
:mod:`.html`, :mod:`.charts` (PNG) and the :mod:`.flamegraph` package (SVG), plus
:mod:`.history` (the tables of ``flamediff history``). :mod:`.cells` holds the cells the
tables share; :mod:`.registry` names the report formats, their extensions and renderers.
"""
