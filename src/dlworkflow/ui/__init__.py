"""``dlw ui``: the central results table as a local web page.

A thin reader of the registry and the run folders (Starlette, served by uvicorn): the
leaderboards of ``dlw runs`` (``/``), each run's report with its curves drawn in the browser
(``/runs/<id>``), comparisons (``/compare?runs=a,b``), tuning studies (``/studies/<name>``) and
the same data as JSON (``/api/runs``, ``/api/runs/<id>``). Charts are drawn by uPlot, vendored
in ``static/uplot`` (version and license beside it): the page needs no network. One module per
concept: :mod:`~dlworkflow.ui.settings`, :mod:`~dlworkflow.ui.security`,
:mod:`~dlworkflow.ui.queries`, :mod:`~dlworkflow.ui.live`, :mod:`~dlworkflow.ui.curves`,
:mod:`~dlworkflow.ui.spec_differences`, :mod:`~dlworkflow.ui.routes`, :mod:`~dlworkflow.ui.app`.

Example:
    >>> from dlworkflow.ui.settings import ServerSettings
    >>> ServerSettings(port=8800).url
    'http://127.0.0.1:8800/'
"""
