"""dlworkflow: the deep-learning workflow of the workshop, as a tool."""
__version__ = "0.1.0"
