"""The plenary: what happens in the room. For now, consultative votes on amendments.

``tally.py`` counts (pure, no Flask, no database); ``votes.py`` holds the
services; ``views.py`` the vote pages; ``figures.py`` the votes part of the
amendment page; ``projector/`` the room's screen and the moderators' console. The merge workspace is
``merging/`` (#18).
"""

from __future__ import annotations

from flask import Flask

from ..audit.states import register_parts
from ..documents.contributions import register_provider
from ..live import register_content, register_topic
from . import figures, projector, views, votes
from .projector import views as projector_views
from .merging import services as merging, views as merging_views


def init_app(app: Flask) -> None:
    """Wire the plenary into the app: its pages, its part of the amendment page, the parts its events change."""
    app.register_blueprint(views.bp)
    register_provider("plenary", figures.document_page_figures)
    register_parts("votes", figures.changed_parts)
    register_topic("vote", votes.followable)  # vote:<id>, announced by a cast and the close
    app.register_blueprint(projector_views.bp)  # the projector and its console (plenary_projector)
    projector.init_app(app)
    register_content("projector", projector_views.screen_content)  # the screen comes with its notice
    app.register_blueprint(merging_views.bp)  # the merge workspace (plenary_merge)
    register_parts("merge_drafts", merging.changed_parts)
    register_topic("merge", merging.followable)
    register_content("merge", merging_views.view_content)  # the public view comes with its notice
