"""Warm workers: ``dlw`` commands run in a fork of a process that has Keras already imported.

``dlw worker start`` starts one process per Keras backend (:mod:`dlworkflow.warm.server`);
while they run, every ``dlw`` command is handed to them (:mod:`dlworkflow.warm.client`) and
starts without the seconds of importing Keras and its libraries. :mod:`dlworkflow.warm.control`
starts, lists and stops them; :mod:`dlworkflow.warm.protocol` is what the two sides say.

Example:
    $ dlw worker start
    $ dlw run examples/weather.toml      # served by the worker
    $ dlw worker stop
"""
