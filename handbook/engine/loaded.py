"""Imported, this module has WeasyPrint imported as a worker imports it (``warm_up``: the
fonts confined, the declarations prebuilt), for the fork server, which only imports
the modules it is given."""

from handbook.engine.render import warm_up

warm_up()
