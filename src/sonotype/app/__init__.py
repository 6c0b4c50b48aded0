"""The sonotype app: a local web server over the project store, and its page.

``sonotype app`` serves a REST API (:mod:`sonotype.app.api`) and a static page
(``static/``, no build step) to look at, listen to, annotate, review and explore a
project's recordings in the browser. Start it from Python with :func:`create_app`
and :func:`serve`; docs/app.md describes the workflow and the API.
"""

from sonotype.app.server import create_app, serve

__all__ = ["create_app", "serve"]
