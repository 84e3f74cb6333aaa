"""The JSON archive of the whole database: one direction, from the format to its writer, reader and command.

``schema`` says what an archive holds (format, version, tables and columns
left out, :class:`~.schema.ArchiveError`); ``writer`` makes one, ``reader``
checks one and restores it into an empty database, and ``cli`` is the
``import-archive`` command (``register(app)``). Nothing here imports a
module above it, and the package imports none of them itself.
"""
