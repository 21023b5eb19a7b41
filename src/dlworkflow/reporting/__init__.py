"""Reporting: one self-contained HTML page per run (``dlw report``), for people who would rather look.

Example:
    >>> from dlworkflow.reporting.html_report import render_report
    >>> page = render_report(record, run_dir)  # doctest: +SKIP
"""
