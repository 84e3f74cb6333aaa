"""Signals other areas listen to, sent inside the writing transaction.

Documents do not know about amendments; amendments subscribe here to follow
the text when a section gets a new version or leaves the document.
"""

from blinker import Namespace

_signals = Namespace()

#: sent(section, document=..., version=..., actor=...) after a new version is written
version_written = _signals.signal("section-version-written")
#: sent(section, document=..., actor=...) after a section is retired
section_retired = _signals.signal("section-retired")
